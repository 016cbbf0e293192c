// The key check every request but /health passes: the admin key (the gateway's configured or
// generated key) may call everything; an app key the model APIs only (403 elsewhere); anything else
// is a 401 that counts against the client's address (auth-throttle.ts) and is logged at warn.
// The admin API also takes the /auth page's session cookie (with its CSRF token on writes), so a
// signed-in operator's page can call it.
import type { Context, MiddlewareHandler } from 'hono';
import { presentedKey } from '../config/api-key.js';
import { errorShapeFor } from '../dialects/dialect.js';
import { GatewayError } from '../errors.js';
import { AuthThrottle } from '../http/auth-throttle.js';
import { ownerId } from '../http/context.js';
import { errorResponse } from '../http/respond.js';
import { csrfMatches, type WebSessions } from '../auth/web-session.js';
import { ADMIN_CALLER, dialectOfPath, isModelApiPath, type Admin, type Caller } from './admin.js';
import { APP_KEY_PREFIX } from './app-keys.js';

export interface KeyCheckDeps {
  admin: Admin;
  throttle: AuthThrottle;
  addressOf: (c: Context) => string;
  /** The /auth page's sessions; set when /auth is served (it then checks its own key). */
  sessions?: WebSessions;
}

const REFUSED: Record<'unknown' | 'revoked' | 'expired', { message: string; code: string }> = {
  unknown: { message: 'Incorrect API key provided.', code: 'invalid_api_key' },
  revoked: { message: 'This API key has been revoked.', code: 'key_revoked' },
  expired: { message: 'This API key has expired.', code: 'key_expired' },
};

const isAuthPath = (p: string) => p === '/auth' || p.startsWith('/auth/');
const isAdminPath = (p: string) => p === '/admin' || p.startsWith('/admin/');

function admitted(c: Context, deps: KeyCheckDeps, caller: Caller, key?: string): void {
  if (key) c.set('owner', ownerId(key));
  c.set('caller', caller);
  if (isModelApiPath(c.req.path)) c.set('meter', deps.admin.meter(caller, dialectOfPath(c.req.path)));
}

export function keyCheck(deps: KeyCheckDeps): MiddlewareHandler {
  const { admin, throttle, addressOf, sessions } = deps;
  return async (c, next) => {
    const path = c.req.path;
    if (path === '/health') return next();
    const key = presentedKey((n) => c.req.header(n));
    // /auth checks the admin key itself (as a header, or through its session cookie: auth/routes.ts);
    // an app key is answered here, with the 403 it gets on every path but the model APIs.
    if (sessions && isAuthPath(path) && !key?.startsWith(APP_KEY_PREFIX)) return next();
    if (!key) {
      const s = sessions && isAdminPath(path) ? sessions.fromRequest(c) : undefined;
      if (s) {
        if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !csrfMatches(c.req.header('x-csrf-token'), s.csrf)) {
          return errorResponse(c, new GatewayError('permission', 'A signed-in admin request that changes something needs the x-csrf-token header of its session.', { code: 'csrf_token_missing' }), errorShapeFor(c));
        }
        admitted(c, deps, ADMIN_CALLER);
        return next();
      }
      return errorResponse(c, new GatewayError('authentication', 'Missing API key: send it as Authorization: Bearer <key> or x-api-key.', { code: 'invalid_api_key' }), errorShapeFor(c));
    }
    // A refused address is not told whether its key is right (or the refusal would not slow guessing).
    const addr = addressOf(c);
    const wait = throttle.retryAfter(addr);
    if (wait !== undefined) return errorResponse(c, AuthThrottle.refusal(wait), errorShapeFor(c));
    const who = await admin.identify(key);
    if ('refused' in who) {
      const { reason, key: known } = who.refused;
      throttle.fail(addr, { reason, path, ...(known ? { key: known.id, keyName: known.name } : {}) });
      return errorResponse(c, new GatewayError('authentication', REFUSED[reason].message, { code: REFUSED[reason].code }), errorShapeFor(c));
    }
    if (who.caller.kind === 'app' && !isModelApiPath(path)) {
      return errorResponse(
        c,
        new GatewayError('permission', 'An app key may call the model APIs only (/v1/chat/completions, /v1/responses, /v1/messages, /v1/models); this needs the admin key.', {
          code: 'admin_key_required',
        }),
        errorShapeFor(c),
      );
    }
    admitted(c, deps, who.caller, key);
    return next();
  };
}
