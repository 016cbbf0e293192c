// One error type for the whole request path. Dialect encoders turn it into their own error shape;
// `message` is always safe to show a client (never the CLI's raw text, which can name the upstream).
export type ErrorKind =
  | 'invalid_request' // 400
  | 'authentication' // 401: the client's gateway key
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

export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly extra: { param?: string; retryAfterSec?: number; code?: string } = {},
  ) {
    super(message);
    this.status = STATUS[kind];
  }
}

export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('internal', 'The gateway failed while handling this request.');
}
