// POST /v1/responses: route -> adapter -> engine -> encoder, in a straight line. Nothing is stored:
// retrieving, cancelling or chaining responses (previous_response_id) is not offered.
import type { Hono } from 'hono';
import { asGatewayError } from '../../errors.js';
import { readJson, validate } from '../../http/body.js';
import { clientAbort, type RouteDeps } from '../../http/context.js';
import { errorResponse } from '../../http/respond.js';
import { sseResponse } from '../../http/sse.js';
import { eventsOf, primeTurn } from '../../http/turn-stream.js';
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

      const primed = await primeTurn(turn.events, config.keepaliveMs);
      const encoder = new ResponsesEncoder(turn, body);
      return sseResponse({
        keepaliveMs: config.keepaliveMs,
        // An SSE comment: every client ignores it, and it carries no sequence number to keep in order.
        keepalive: ': keepalive\n\n',
        onCancel: () => ac.abort(),
        produce: async (sink) => {
          const send = (e: { type: string }) => sink.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
          encoder.start().forEach(send);
          try {
            for await (const ev of eventsOf(primed)) encoder.encode(ev).forEach(send);
          } catch (e) {
            encoder.fail(asGatewayError(e)).forEach(send);
          }
        },
      });
    } catch (e) {
      ac.abort();
      return errorResponse(c, e, openAIErrorBody);
    }
  });
}
