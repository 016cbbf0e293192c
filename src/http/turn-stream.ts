// Streams hold their HTTP headers until the turn's first event (or until the first keepalive is
// due): a failure before that (upstream 429, auth, bad model) becomes a proper HTTP status; after
// it, the dialect reports the failure inside the stream.
import type { Turn, TurnEvent } from '../engine/types.js';
import { errorShapeFor } from '../dialects/dialect.js';
import { asGatewayError, GatewayError } from '../errors.js';
import { type OpenStreams, requestScope, shutdownError } from './request-scope.js';
import { errorResponse } from './respond.js';
import { sseResponse } from './sse.js';

export interface PrimedTurn {
  iterator: AsyncIterator<TurnEvent>;
  /** The first event, or the promise of it when the deadline came first. */
  first: Promise<IteratorResult<TurnEvent>>;
  /** The first event when it came before the deadline (a dialect may put it in its opening event). */
  arrived?: TurnEvent;
}

export async function primeTurn(events: AsyncIterable<TurnEvent>, deadlineMs: number): Promise<PrimedTurn> {
  const iterator = events[Symbol.asyncIterator]();
  const first = iterator.next();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), deadlineMs)));
  let winner: IteratorResult<TurnEvent> | 'deadline';
  try {
    winner = await Promise.race([first, deadline]); // rethrows an early failure
  } finally {
    clearTimeout(timer);
  }
  first.catch(() => {}); // the producer awaits it again and handles the failure there
  return { iterator, first, arrived: winner !== 'deadline' && !winner.done ? winner.value : undefined };
}

/** Iterate the remaining events of a primed turn. */
export async function* eventsOf(primed: PrimedTurn): AsyncGenerator<TurnEvent> {
  let r = await primed.first;
  while (!r.done) {
    yield r.value;
    r = await primed.iterator.next();
  }
}

/** How a dialect writes a turn as SSE: each function returns the raw chunks to send. */
export interface StreamEncoding {
  /** Written whenever the model has been silent for keepaliveMs. */
  keepalive: string;
  /** The opening chunks; `arrived` is the turn's first event when it was already there. */
  open(arrived: TurnEvent | undefined): string[];
  event(ev: TurnEvent): string[];
  /** After the last event. */
  close(): string[];
  /** A failure after the stream began, in the dialect's in-stream error form. */
  fail(err: GatewayError): string[];
}

/**
 * Streams a turn: headers once the first event is in (or the keepalive is due), then the dialect's
 * chunks. A failure before the headers is an ordinary error response in the dialect's shape; one after
 * them is the dialect's in-stream error event. A shutdown that outlasts the drain time ends the stream
 * with an error event saying so (never a silent cut, never a completion).
 */
export async function streamTurn(turn: Turn, ac: AbortController, keepaliveMs: number, enc: StreamEncoding): Promise<Response> {
  const scope = requestScope.getStore();
  let primed: PrimedTurn;
  try {
    primed = await primeTurn(turn.events, keepaliveMs);
  } catch (e) {
    // The turn failed before anything was sent (an upstream 429, a bad model...): its outcome is
    // logged by the engine; the client gets the status. Without a request scope the route answers.
    if (!scope || !(e instanceof GatewayError)) throw e;
    ac.abort();
    return errorResponse(scope.c, relabel(e, scope.streams), errorShapeFor(scope.c));
  }
  let failed = false;
  let done: (() => void) | undefined;
  return sseResponse({
    keepaliveMs,
    keepalive: enc.keepalive,
    onCancel: () => {
      done?.();
      ac.abort();
    },
    produce: async (sink) => {
      const write = (chunks: string[]) => chunks.forEach((c) => sink.write(c));
      const fail = (err: GatewayError) => {
        if (failed || sink.closed) return;
        failed = true;
        write(enc.fail(err));
      };
      done = scope?.streams.add({
        cut: (err) => {
          fail(err);
          sink.end();
          done?.();
          ac.abort(); // stops the turn and its process
        },
      });
      try {
        write(enc.open(primed.arrived));
        for await (const ev of eventsOf(primed)) write(enc.event(ev));
        if (!failed) write(enc.close());
      } catch (e) {
        fail(relabel(asGatewayError(e), scope?.streams));
      } finally {
        done?.();
      }
    },
  });
}

/** A turn whose process a shutdown stopped failed because of the shutdown: say so. */
function relabel(err: GatewayError, streams: OpenStreams | undefined): GatewayError {
  return streams?.shuttingDown && err.kind === 'cli_failure' ? shutdownError() : err;
}
