// Anthropic's error shape: {"type":"error","error":{"type","message"}}, with Anthropic's error types.
import type { GatewayError } from '../../errors.js';

export function anthropicErrorType(err: GatewayError): string {
  switch (err.kind) {
    case 'invalid_request':
      return 'invalid_request_error';
    case 'authentication':
      return 'authentication_error';
    case 'not_found':
    case 'model_not_found':
      return 'not_found_error';
    case 'request_too_large':
      return 'request_too_large';
    case 'rate_limited':
      return 'rate_limit_error';
    case 'overloaded':
    case 'unavailable':
      return 'overloaded_error';
    default:
      if (err.status === 403) return 'permission_error';
      return 'api_error';
  }
}

export function anthropicErrorBody(err: GatewayError) {
  return { type: 'error', error: { type: anthropicErrorType(err), message: err.message } };
}
