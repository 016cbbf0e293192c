import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    // Defence in depth: nothing that looks like a credential is ever written, whatever a call site passes.
    redact: {
      paths: ['authorization', 'apiKey', 'token', 'headers.authorization', 'headers["x-api-key"]', 'env', '*.env'],
      censor: '[redacted]',
    },
  });
}
