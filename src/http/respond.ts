// Error responses in the dialect's own shape, with Retry-After where the client should come back, and
// the request id every response carries (`request-id` as Anthropic sends it, `x-request-id` as OpenAI
// does). Errors are logged with that id: a failure the gateway did not expect (a bug, not a client's
// mistake) at error level with its stack; any other 5xx at warn; client errors at debug.
import crypto from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { asGatewayError, clip, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';

export type ErrorShaper = (err: ReturnType<typeof asGatewayError>) => unknown;

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string;
    /** Set once by requestIds(): errorResponse logs through it. */
    requestLog: Logger;
  }
}

/** This request's id, made on first use: `req_` and 24 random base62-ish characters. */
export function requestIdOf(c: Context): string {
  let id = c.get('requestId');
  if (!id) {
    id = `req_${crypto.randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
    c.set('requestId', id);
  }
  return id;
}

function stamp(res: Response, id: string): Response {
  try {
    res.headers.set('request-id', id);
    res.headers.set('x-request-id', id);
    return res;
  } catch {
    // Immutable headers (a fetched Response): copy it.
    const copy = new Response(res.body, res);
    copy.headers.set('request-id', id);
    copy.headers.set('x-request-id', id);
    return copy;
  }
}

/** Gives every response a request id header, and errorResponse a logger (mounted first in app.ts). */
export function requestIds(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    if (c.get('requestLog')) return next();
    c.set('requestLog', log);
    const id = requestIdOf(c);
    await next();
    const stamped = stamp(c.res, id);
    if (stamped !== c.res) c.res = stamped;
  };
}

/** Logs an error a request ended with, by its request id; never the request's content or headers. */
export function logRequestError(c: Context, err: unknown, log?: Logger): void {
  const l = log ?? c.get('requestLog');
  if (!l) return;
  const at = { requestId: requestIdOf(c), method: c.req.method, path: clip(c.req.path, 200) };
  if (!(err instanceof GatewayError)) {
    const e = err instanceof Error ? err : new Error(String(err));
    l.error({ ...at, err: clip(e.message, 300), errName: e.name, stack: e.stack?.slice(0, 4000) }, 'request failed: unexpected error');
  } else if (err.status >= 500) {
    l.warn({ ...at, status: err.status, kind: err.kind, err: err.message }, 'request failed');
  } else {
    l.debug({ ...at, status: err.status, kind: err.kind, err: err.message }, 'request refused');
  }
}

/**
 * Thrown where a whole answer was made elsewhere (another replica answered a forwarded request,
 * cluster/): the routes' error path hands it to the client as it is.
 */
export class ResponseInstead extends Error {
  constructor(readonly response: Response) {
    super('answered elsewhere');
  }
}

export function errorResponse(c: Context, err: unknown, shape: ErrorShaper, log?: Logger): Response {
  if (err instanceof ResponseInstead) return err.response;
  logRequestError(c, err, log);
  const g = asGatewayError(err);
  const id = requestIdOf(c);
  const headers: Record<string, string> = { 'request-id': id, 'x-request-id': id };
  if (g.extra.retryAfterSec !== undefined) headers['Retry-After'] = String(g.extra.retryAfterSec);
  const body = shape(g) as Record<string, unknown>;
  // Anthropic's error bodies carry the request id too.
  if (body && body.type === 'error') body.request_id = id;
  return c.json(body as object, g.status as 400, headers);
}
