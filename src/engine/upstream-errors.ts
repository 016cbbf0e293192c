// Maps the CLI's report of an upstream failure to a GatewayError. The CLI's own error text can carry
// the upstream's address and internal hints, so clients get our wording, never that text verbatim.
//
// What the CLI reports (a synthetic assistant frame: `api_error_status`, `api_error_type`, `error`,
// and a text), as observed:
//   upstream 400 "prompt is too long: N tokens > M maximum"  status 400, error invalid_request, text
//     "Prompt is too long · the request is ~N tokens (limit M) ..."
//   a prompt the CLI itself finds too long (it tries to compact, fails, calls no API)  no status,
//     error invalid_request, text "Prompt is too long"
//   other 400 / 422  status, error unknown;  404  error model_not_found;  413  error invalid_request
//   401  error authentication_failed;  403  error authentication_failed, api_error_type permission_error
//   429  error rate_limit;  5xx / 529  error server_error
//   a connection lost mid-answer (after its own recovery failed)  no status, error server_error,
//     api_error connection_failed
//   any other status (418 ...)  error unknown
// The text carries the API's own message after the CLI's prefix: "API Error: 400 <message>",
// "Failed to authenticate. API Error: 403 <message>", "API Error: Request rejected (429) · <message>".
// A refusal (a 403, a 429, a 400) keeps the gateway's guidance and adds that message, sanitized
// (apiMessage): it says why (an organisation's policy, what the plan includes, extra usage, which
// limit), and only the API can say that.
import { clip, GatewayError } from '../errors.js';

export const LOGIN_HINT =
  'Claude Code is not logged in or its credentials were refused by the Anthropic API. ' +
  'An operator must log in: run `claude-code-gateway login`, open /auth on the gateway, or set ANTHROPIC_API_KEY / CLAUDE_CODE_OAUTH_TOKEN.';

export const PERMISSION_HINT =
  'The Claude credentials this gateway uses are not allowed to use the requested model or feature ' +
  '(the Anthropic API refused with permission_error). An operator must check what the account may use.';

export interface UpstreamFailure {
  status?: number | null;
  /** The CLI's classification, e.g. rate_limit, authentication_failed, server_error, invalid_request, unknown. */
  error?: string;
  /** The API's error type when the CLI got an error body, e.g. permission_error, overloaded_error. */
  apiErrorType?: string;
  /** The CLI's own label for failures without a status, e.g. connection_failed. */
  apiError?: string;
  /** The CLI's message text (never sent to clients as is). */
  text?: string;
  /** A subscription's plan window refused the request until then (unix seconds; the CLI's rate_limit_info). */
  resetsAt?: number;
}

/** Anthropic's own public pages (plans, usage, docs) may be named; any other address may be the upstream's. */
const PUBLIC_HOST = /^https:\/\/([\w-]+\.)*(anthropic\.com|claude\.ai|claude\.com)(\/[^\s"'<>]*)?$/i;

/**
 * Remove what must not reach a client: credentials, addresses other than Anthropic's public pages,
 * host:port pairs, file paths, ids (an organisation's), the CLI's advice about its own setup; at most
 * 300 characters.
 */
export function sanitizeUpstreamText(text: string): string {
  const cleaned = text
    .replace(/^(Failed to authenticate\.\s*)?API Error:\s*(Request rejected \(\d{3}\)\s*·\s*|\d{3}\s*)?/i, '')
    .replace(/\b(sk-ant-[\w-]+|(Bearer|Basic)\s+[\w.~+/=-]+)/gi, '[credential]')
    .replace(/https?:\/\/[^\s"'<>]+/g, (url) => {
      const bare = url.replace(/[.,;:)]+$/, '');
      return PUBLIC_HOST.test(bare) ? url : '[upstream]';
    })
    // host:port, not a time of day (a host has a letter or is an IPv4 address).
    .replace(/\b(?<!\/)(?:[\w.-]*[a-z][\w.-]*|\d+\.\d+\.\d+\.\d+):\d{2,5}\b/gi, '[upstream]')
    .replace(/(^|[\s("'=])(~|\.{1,2})?(\/[\w.@+-]+){2,}\/?/g, '$1[path]')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '[id]')
    .replace(/\s*(This is a server-side issue|If it persists|Check the).*$/s, '')
    .trim()
    // Typographic apostrophes: the error backstop (errors.ts) clips long '...' spans as quoted values.
    .replace(/'/g, '\u2019');
  return clip(cleaned, 300);
}

/** The API's own message in the CLI's text, sanitized; '' when there is none. */
export function apiMessage(text: string | undefined): string {
  if (!text || !/API Error:/i.test(text)) return '';
  return sanitizeUpstreamText(text.slice(text.search(/API Error:/i)));
}

/** The gateway's guidance, then what the Anthropic API said (when it said something). */
const withApiMessage = (guidance: string, said: string) => (said ? `${guidance} The Anthropic API said: ${said}` : guidance);

/** The error for a prompt over the model's context window, in the API's words where the numbers are known. */
export function promptTooLong(text = ''): GatewayError {
  const m = /~?(\d+)\s*tokens\b.*?(?:limit|>)\s*(\d+)/is.exec(text);
  const detail = m ? `prompt is too long: ${m[1]} tokens > ${m[2]} maximum` : "prompt is too long for the model's context window";
  return new GatewayError('invalid_request', `${detail}. Shorten the conversation or the attached content.`, { code: 'context_length_exceeded' });
}

const TRANSIENT_ERRORS = new Set(['server_error', 'overloaded', 'overloaded_error', 'api_error', 'connection_failed', 'timeout']);

export function mapUpstreamFailure(f: UpstreamFailure, retryAfterSec: number): GatewayError {
  const status = f.status ?? undefined;
  const text = f.text ?? '';
  if (/prompt is too long/i.test(text) && (status === undefined || status === 400 || status === 413)) return promptTooLong(text);
  if (status === 403 || f.apiErrorType === 'permission_error' || f.error === 'oauth_org_not_allowed') {
    return new GatewayError('permission', withApiMessage(PERMISSION_HINT, apiMessage(text)), { code: 'upstream_permission_denied' });
  }
  if (status === 401 || f.error === 'authentication_failed') {
    return new GatewayError('upstream_auth', LOGIN_HINT, { code: 'upstream_authentication_failed' });
  }
  if (status === 429 || f.error === 'rate_limit') {
    // A plan window ("You've hit your 5-hour limit"): the wait is until its reset, which the CLI reports.
    const untilReset = typeof f.resetsAt === 'number' ? Math.ceil(f.resetsAt - Date.now() / 1000) : 0;
    if (untilReset > 0) {
      return new GatewayError('rate_limited', withApiMessage(`The Claude plan's usage limit was reached; it resets at ${new Date(f.resetsAt! * 1000).toISOString()}.`, apiMessage(text)), {
        retryAfterSec: untilReset,
        code: 'upstream_rate_limited',
      });
    }
    return new GatewayError('rate_limited', withApiMessage('The Anthropic API rate limit was reached; retry after the indicated delay.', apiMessage(text)), {
      retryAfterSec,
      code: 'upstream_rate_limited',
    });
  }
  if (status === 413) {
    return new GatewayError('request_too_large', 'The Anthropic API refused the request as too large.');
  }
  if (status === 400 || status === 404 || status === 422 || (status === undefined && f.error === 'invalid_request')) {
    const detail = text ? sanitizeUpstreamText(text) : '';
    return new GatewayError('invalid_request', `The Anthropic API rejected the request${detail ? `: ${detail}` : '.'}`, {
      code: 'upstream_invalid_request',
    });
  }
  // 5xx, 529 overloaded, dropped connections, timeouts: temporary by nature.
  const transient = status !== undefined ? status >= 500 : TRANSIENT_ERRORS.has(f.error ?? '') || TRANSIENT_ERRORS.has(f.apiError ?? '');
  if (transient) {
    return new GatewayError('overloaded', 'The Anthropic API is unavailable or overloaded; retry after the indicated delay.', {
      retryAfterSec,
      code: 'upstream_unavailable',
    });
  }
  // Anything else (a status the API does not document, an error the CLI could not classify): not
  // something a retry is known to fix, and not the client's fault as far as the gateway can tell.
  return new GatewayError('upstream_error', 'The Anthropic API answered with an error the gateway does not recognise.', {
    code: 'upstream_error',
  });
}
