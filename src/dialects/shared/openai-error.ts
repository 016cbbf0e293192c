// The OpenAI error shape, shared by the Chat Completions and Responses dialects:
// {"error":{"message","type","param","code"}}.
import type { GatewayError } from '../../errors.js';

const TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
};

export function openAIErrorBody(err: GatewayError) {
  return {
    error: {
      message: err.message,
      type: TYPES[err.status] ?? (err.status >= 500 ? 'server_error' : 'invalid_request_error'),
      param: err.extra.param ?? null,
      code: err.extra.code ?? (err.kind === 'request_too_large' ? 'request_too_large' : err.kind === 'model_not_found' ? 'model_not_found' : null),
    },
  };
}
