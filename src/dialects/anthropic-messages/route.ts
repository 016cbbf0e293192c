// POST /v1/messages and /v1/messages/count_tokens: route -> adapter -> engine -> encoder.
// Any anthropic-version is accepted and anthropic-beta is ignored: the answer's shape does not depend
// on them here.
import type { Hono } from 'hono';
import { readJson, validate } from '../../http/body.js';
import { clientAbort, meterOf, ownerOf, type RouteDeps } from '../../http/context.js';
import { errorResponse } from '../../http/respond.js';
import { streamTurn } from '../../http/turn-stream.js';
import { resolveRemoteMedia } from '../shared/remote-media.js';
import { conversationOf, toTurnRequest } from './adapter.js';
import { estimateInputTokens } from './count-tokens.js';
import { collectMessage, formatSse, MessageStreamEncoder } from './encoder.js';
import { anthropicErrorBody } from './error.js';
import { countTokensRequestSchema, messagesRequestSchema } from './schema.js';

const PING = formatSse({ event: 'ping', data: { type: 'ping' } });

export function registerAnthropicMessages(app: Hono, deps: RouteDeps): void {
  const { config, engine } = deps;

  app.post('/v1/messages', async (c) => {
    const ac = clientAbort(c);
    try {
      const body = validate(messagesRequestSchema, await readJson(c, config.bodyLimitBytes, config.maxJsonDepth));
      const req = await resolveRemoteMedia(toTurnRequest(body), config);
      const turn = await engine.start(req, ac.signal, { owner: ownerOf(c), streaming: !!body.stream, meter: meterOf(c) });
      if (!body.stream) return c.json(await collectMessage(turn));

      const encoder = new MessageStreamEncoder(turn);
      return streamTurn(turn, ac, config.keepaliveMs, {
        keepalive: PING,
        open: (arrived) => encoder.start(arrived?.type === 'usage' ? arrived.usage : undefined).map(formatSse),
        event: (ev) => encoder.encode(ev).map(formatSse),
        close: () => [],
        fail: (err) => [formatSse({ event: 'error', data: anthropicErrorBody(err) })],
      });
    } catch (e) {
      ac.abort();
      return errorResponse(c, e, anthropicErrorBody);
    }
  });

  app.post('/v1/messages/count_tokens', async (c) => {
    try {
      const body = validate(countTokensRequestSchema, await readJson(c, config.bodyLimitBytes, config.maxJsonDepth));
      engine.resolveModel(body.model); // an unknown model is a 404, as with /v1/messages
      const conv = conversationOf(body);
      return c.json({ input_tokens: estimateInputTokens({ system: conv.system, messages: conv.messages, tools: body.tools ?? undefined }) });
    } catch (e) {
      return errorResponse(c, e, anthropicErrorBody);
    }
  });
}
