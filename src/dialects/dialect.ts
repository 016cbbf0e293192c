// Which dialect a request speaks, for the answers every dialect shares (errors before routing, auth
// failures, the model list): Anthropic for /v1/messages, or when the client identifies as an
// Anthropic client (an anthropic-version header, or x-api-key without a Bearer token); OpenAI
// otherwise.
import type { Context } from 'hono';
import type { ErrorShaper } from '../http/respond.js';
import { anthropicErrorBody } from './anthropic-messages/error.js';
import { openAIErrorBody } from './shared/openai-error.js';

export function speaksAnthropic(c: Context): boolean {
  if (c.req.path === '/v1/messages' || c.req.path.startsWith('/v1/messages/')) return true;
  if (c.req.path.startsWith('/v1/chat/') || c.req.path.startsWith('/v1/responses')) return false;
  if (c.req.header('anthropic-version')) return true;
  return !!c.req.header('x-api-key') && !/^bearer\s/i.test(c.req.header('authorization') ?? '');
}

export function errorShapeFor(c: Context): ErrorShaper {
  return speaksAnthropic(c) ? anthropicErrorBody : openAIErrorBody;
}
