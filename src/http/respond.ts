// Error responses in the dialect's own shape, with Retry-After where the client should come back.
import type { Context } from 'hono';
import { asGatewayError } from '../errors.js';

export type ErrorShaper = (err: ReturnType<typeof asGatewayError>) => unknown;

export function errorResponse(c: Context, err: unknown, shape: ErrorShaper): Response {
  const g = asGatewayError(err);
  const headers: Record<string, string> = {};
  if (g.extra.retryAfterSec !== undefined) headers['Retry-After'] = String(g.extra.retryAfterSec);
  return c.json(shape(g) as object, g.status as 400, headers);
}
