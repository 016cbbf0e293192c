// Maps the CLI's report of an upstream failure to a GatewayError. The CLI's own error text can carry
// the upstream's address and internal hints, so clients get our wording, never that text verbatim.
import { GatewayError } from '../errors.js';

export const LOGIN_HINT =
  'Claude Code is not logged in or its credentials were refused by the Anthropic API. ' +
  'An operator must log in: run `claude-code-gateway login`, open /auth on the gateway, or set ANTHROPIC_API_KEY / CLAUDE_CODE_OAUTH_TOKEN.';

export interface UpstreamFailure {
  status?: number | null;
  /** The CLI's classification, e.g. rate_limit, authentication_failed, server_error. */
  error?: string;
  /** The CLI's message text (never sent to clients as is). */
  text?: string;
}

/** Remove what must not reach a client: URLs, host:port pairs, the CLI's advice about its own setup. */
export function sanitizeUpstreamText(text: string): string {
  return text
    .replace(/^API Error:\s*(\d{3}\s*)?/i, '')
    .replace(/https?:\/\/\S+/g, '[upstream]')
    .replace(/\b[\w.-]+:\d{2,5}\b/g, '[upstream]')
    .replace(/\s*(This is a server-side issue|If it persists|Check the).*$/s, '')
    .trim()
    .slice(0, 300);
}

export function mapUpstreamFailure(f: UpstreamFailure, retryAfterSec: number): GatewayError {
  const status = f.status ?? undefined;
  if (status === 401 || status === 403 || f.error === 'authentication_failed' || f.error === 'oauth_org_not_allowed') {
    return new GatewayError('upstream_auth', LOGIN_HINT, { code: 'upstream_authentication_failed' });
  }
  if (status === 429 || f.error === 'rate_limit') {
    return new GatewayError('rate_limited', 'The Anthropic API rate limit was reached; retry after the indicated delay.', {
      retryAfterSec,
      code: 'upstream_rate_limited',
    });
  }
  if (status === 413) {
    return new GatewayError('request_too_large', 'The Anthropic API refused the request as too large.');
  }
  if (status === 400 || status === 404 || status === 422) {
    const detail = f.text ? sanitizeUpstreamText(f.text) : '';
    return new GatewayError('invalid_request', `The Anthropic API rejected the request${detail ? `: ${detail}` : '.'}`, {
      code: 'upstream_invalid_request',
    });
  }
  // 5xx, 529 overloaded, dropped connections, timeouts: temporary by nature.
  return new GatewayError('overloaded', 'The Anthropic API is unavailable or overloaded; retry after the indicated delay.', {
    retryAfterSec,
    code: 'upstream_unavailable',
  });
}
