// Streams hold their HTTP headers until the turn's first event (or until the first keepalive is
// due): a failure before that (upstream 429, auth, bad model) becomes a proper HTTP status; after
// it, the dialect reports the failure inside the stream.
import type { TurnEvent } from '../engine/types.js';

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
