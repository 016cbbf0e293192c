// POST /v1/chat/completions: route -> adapter -> engine -> encoder, in a straight line.
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
import { ChunkEncoder, collectCompletion } from './encoder.js';
import { chatRequestSchema } from './schema.js';

export function registerChatCompletions(app: Hono, deps: RouteDeps): void {
  const { config, engine } = deps;
  app.post('/v1/chat/completions', async (c) => {
    const ac = clientAbort(c);
    try {
      const body = validate(chatRequestSchema, await readJson(c, config.bodyLimitBytes));
      const turn = await engine.start(await resolveRemoteMedia(toTurnRequest(body), config), ac.signal);
      if (!body.stream) return c.json(await collectCompletion(turn, turn.events));

      const primed = await primeTurn(turn.events, config.keepaliveMs);
      const encoder = new ChunkEncoder(turn, body.stream_options?.include_usage === true);
      return sseResponse({
        keepaliveMs: config.keepaliveMs,
        keepalive: ': keepalive\n\n',
        onCancel: () => ac.abort(),
        produce: async (sink) => {
          const send = (o: object) => sink.write(`data: ${JSON.stringify(o)}\n\n`);
          encoder.start().forEach(send);
          try {
            for await (const ev of eventsOf(primed)) encoder.encode(ev).forEach(send);
            sink.write('data: [DONE]\n\n');
          } catch (e) {
            send(openAIErrorBody(asGatewayError(e)));
          }
        },
      });
    } catch (e) {
      ac.abort();
      return errorResponse(c, e, openAIErrorBody);
    }
  });
}
