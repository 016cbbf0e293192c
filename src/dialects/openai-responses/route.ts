// /v1/responses: POST runs route -> state (previous_response_id, item_reference) -> adapter -> engine
// -> encoder, in a straight line, and stores the finished response (store: true, the default) before
// the client sees its end, so an immediate follow-up with previous_response_id finds it. GET and
// DELETE /v1/responses/{id} and GET .../input_items serve the stored ones, to the key that made them.
import type { Hono } from 'hono';
import type { Turn, TurnEvent } from '../../engine/types.js';
import { readJson, validate } from '../../http/body.js';
import { clientAbort, meterOf, ownerOf, type RouteDeps } from '../../http/context.js';
import { errorResponse } from '../../http/respond.js';
import { streamTurn } from '../../http/turn-stream.js';
import { openAIErrorBody } from '../shared/openai-error.js';
import { resolveRemoteMedia } from '../shared/remote-media.js';
import { toTurnRequest } from './adapter.js';
import { collectResponse, ResponsesEncoder } from './encoder.js';
import { responsesRequestSchema } from './schema.js';
import { deleteResponse, inputItemsPage, loadResponse, normaliseInput, prepareInput, responseNotFound, saveResponse, type StoredResponse } from './state.js';

export function registerResponses(app: Hono, deps: RouteDeps): void {
  const { config, engine, store, log } = deps;

  app.post('/v1/responses', async (c) => {
    const ac = clientAbort(c);
    try {
      const body = validate(responsesRequestSchema, await readJson(c, config.bodyLimitBytes, config.maxJsonDepth));
      const owner = ownerOf(c);
      const { history, input } = await prepareInput(store, owner, body);
      const req = await resolveRemoteMedia(toTurnRequest({ ...body, input }, history), config);
      const turn = await engine.start(req, ac.signal, { owner, streaming: !!body.stream, meter: meterOf(c) });

      /** Keeps a finished (completed or incomplete) response; a failed one never gets here. */
      const keep = async (final: Record<string, unknown> | undefined) => {
        if (body.store === false || !final) return;
        const record: StoredResponse = {
          response: final as StoredResponse['response'],
          input: normaliseInput(input, turn.id),
          previous_response_id: body.previous_response_id ?? null,
          owner,
          instructions: body.instructions ?? null,
        };
        // The answer is already paid for: a store failure is logged, not turned into a failed response.
        await saveResponse(store, record).catch((err: Error) => log.error({ err: err.message, response: final.id }, 'could not store the response'));
      };

      if (!body.stream) {
        const final = await collectResponse(turn, body);
        await keep(final);
        return c.json(final);
      }

      const encoder = new ResponsesEncoder(turn, body);
      // The closing events are encoded, and the response stored, before the turn's `done` goes on
      // to the stream: the client sees response.completed only once the record is there.
      let closing: ReturnType<ResponsesEncoder['encode']> = [];
      async function* storedFirst(events: AsyncIterable<TurnEvent>): AsyncGenerator<TurnEvent> {
        for await (const ev of events) {
          if (ev.type === 'done') {
            closing = encoder.encode(ev);
            await keep(encoder.final);
          }
          yield ev;
        }
      }
      const stored: Turn = { ...turn, events: storedFirst(turn.events) };
      const sse = (e: { type: string }) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
      return streamTurn(stored, ac, config.keepaliveMs, {
        // An SSE comment: every client ignores it, and it carries no sequence number to keep in order.
        keepalive: ': keepalive\n\n',
        open: () => encoder.start().map(sse),
        event: (ev) => (ev.type === 'done' ? closing : encoder.encode(ev)).map(sse),
        close: () => [],
        fail: (err) => encoder.fail(err).map(sse),
      });
    } catch (e) {
      ac.abort();
      return errorResponse(c, e, openAIErrorBody);
    }
  });

  app.get('/v1/responses/:id', async (c) => {
    const id = c.req.param('id');
    const r = await loadResponse(store, ownerOf(c), id);
    return r ? c.json(r.response) : errorResponse(c, responseNotFound(id), openAIErrorBody);
  });

  app.get('/v1/responses/:id/input_items', async (c) => {
    const id = c.req.param('id');
    try {
      const r = await loadResponse(store, ownerOf(c), id);
      if (!r) throw responseNotFound(id);
      return c.json(inputItemsPage(r.input, { order: c.req.query('order'), limit: c.req.query('limit'), after: c.req.query('after') }));
    } catch (e) {
      return errorResponse(c, e, openAIErrorBody);
    }
  });

  app.delete('/v1/responses/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await deleteResponse(store, ownerOf(c), id))) return errorResponse(c, responseNotFound(id), openAIErrorBody);
    return c.json({ id, object: 'response', deleted: true });
  });
}
