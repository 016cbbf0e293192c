// POST /v1/chat/completions: route -> adapter -> engine -> encoder, in a straight line.
import type { Hono } from 'hono';
import { readJson, validate } from '../../http/body.js';
import { clientAbort, meterOf, ownerOf, type RouteDeps } from '../../http/context.js';
import { errorResponse } from '../../http/respond.js';
import { streamTurn } from '../../http/turn-stream.js';
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
      const body = validate(chatRequestSchema, await readJson(c, config.bodyLimitBytes, config.maxJsonDepth));
      const turn = await engine.start(await resolveRemoteMedia(toTurnRequest(body), config), ac.signal, { owner: ownerOf(c), streaming: !!body.stream, meter: meterOf(c) });
      if (!body.stream) return c.json(await collectCompletion(turn, turn.events));

      const encoder = new ChunkEncoder(turn, body.stream_options?.include_usage === true);
      const data = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
      return streamTurn(turn, ac, config.keepaliveMs, {
        keepalive: ': keepalive\n\n',
        open: () => encoder.start().map(data),
        event: (ev) => encoder.encode(ev).map(data),
        close: () => ['data: [DONE]\n\n'],
        fail: (err) => [data(openAIErrorBody(err))],
      });
    } catch (e) {
      ac.abort();
      return errorResponse(c, e, openAIErrorBody);
    }
  });
}
