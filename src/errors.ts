// One error type for the whole request path. Dialect encoders turn it into their own error shape;
// `message` is always safe to show a client (never the CLI's raw text, which can name the upstream).
export type ErrorKind =
  | 'invalid_request' // 400
  | 'authentication' // 401: the client's gateway key
  | 'permission' // 403: the gateway's Claude credentials may not use what was asked (upstream permission_error)
  | 'not_found' // 404
  | 'model_not_found' // 404
  | 'request_too_large' // 413
  | 'rate_limited' // 429: our queue, or the upstream's rate limit
  | 'overloaded' // 503: upstream overloaded / 5xx
  | 'upstream_auth' // 503: Claude Code is not logged in or its credentials were refused
  | 'upstream_error' // 502: the upstream refused the request for another reason
  | 'cli_failure' // 502: the CLI crashed or ended without an answer
  | 'timeout' // 504
  | 'unavailable' // 503: shutting down
  | 'internal'; // 500

const STATUS: Record<ErrorKind, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  model_not_found: 404,
  request_too_large: 413,
  rate_limited: 429,
  overloaded: 503,
  upstream_auth: 503,
  upstream_error: 502,
  cli_failure: 502,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};

/** The most of a client's value an error message repeats (model names, tool names, call ids, media types ...). */
export const ECHO_LIMIT = 64;
/** The longest error message a client gets, whatever a call site interpolated. */
const MESSAGE_LIMIT = 1024;

/**
 * A client's value as an error message may quote it: at most `max` characters, then '…'. Every error
 * message that repeats client input goes through this, so a 2 MB model name never comes back whole.
 */
export function clip(value: unknown, max = ECHO_LIMIT): string {
  const s = typeof value === 'string' ? value : String(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/**
 * Backstop for messages built without clip(): any quoted span longer than the echo limit is clipped,
 * and the whole message is capped.
 */
function boundedMessage(message: string): string {
  if (message.length <= ECHO_LIMIT + 2) return message;
  const quoted = message.replace(/'([^'\n]{65,})'/g, (_m, v: string) => `'${clip(v)}'`);
  return clip(quoted, MESSAGE_LIMIT);
}

export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly extra: { param?: string; retryAfterSec?: number; code?: string } = {},
  ) {
    super(boundedMessage(message));
    this.status = STATUS[kind];
    if (extra.param !== undefined && extra.param.length > 256) this.extra = { ...extra, param: clip(extra.param, 256) };
  }
}

export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('internal', 'The gateway failed while handling this request.');
}
