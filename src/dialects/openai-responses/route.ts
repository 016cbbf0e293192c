// POST /v1/responses: route -> adapter -> engine -> encoder, in a straight line. Nothing is stored:
// retrieving, cancelling or chaining responses (previous_response_id) is not offered.
import type { Hono } from 'hono';
import { readJson, validate } from '../../http/body.js';
import { clientAbort, type RouteDeps } from '../../http/context.js';
import { errorResponse } from '../../http/respond.js';
import { streamTurn } from '../../http/turn-stream.js';
import { openAIErrorBody } from '../shared/openai-error.js';
import { resolveRemoteMedia } from '../shared/remote-media.js';
import { toTurnRequest } from './adapter.js';
import { collectResponse, ResponsesEncoder } from './encoder.js';
import { responsesRequestSchema } from './schema.js';

export function registerResponses(app: Hono, deps: RouteDeps): void {
  const { config, engine } = deps;
  app.post('/v1/responses', async (c) => {
    const ac = clientAbort(c);
    try {
      const body = validate(responsesRequestSchema, await readJson(c, config.bodyLimitBytes));
      const req = await resolveRemoteMedia(toTurnRequest(body), config);
      const turn = await engine.start(req, ac.signal);
      if (!body.stream) return c.json(await collectResponse(turn, body));

      const encoder = new ResponsesEncoder(turn, body);
      const sse = (e: { type: string }) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
      return streamTurn(turn, ac, config.keepaliveMs, {
        // An SSE comment: every client ignores it, and it carries no sequence number to keep in order.
        keepalive: ': keepalive\n\n',
        open: () => encoder.start().map(sse),
        event: (ev) => encoder.encode(ev).map(sse),
        close: () => [],
        fail: (err) => encoder.fail(err).map(sse),
      });
    } catch (e) {
      ac.abort();
      return errorResponse(c, e, openAIErrorBody);
    }
  });
}
