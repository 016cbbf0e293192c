// /auth: the status API, verification, the login flow and the page. Everything here needs the
// gateway key, given either as a header (API clients, the CLI) or through the page's session
// cookie; a cookie-authenticated post must also carry the session's CSRF token.
import crypto from 'node:crypto';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { z } from 'zod';
import { keyMatches, presentedKey } from '../config/api-key.js';
import { openAIErrorBody } from '../dialects/shared/openai-error.js';
import { GatewayError } from '../errors.js';
import { readJson, validate } from '../http/body.js';
import { clientAbort } from '../http/context.js';
import { AuthThrottle } from '../http/auth-throttle.js';
import { errorResponse } from '../http/respond.js';
import type { Logger } from '../log.js';
import type { AccountAdmin } from '../accounts/manage.js';
import { registerAccountRoutes } from '../accounts/routes.js';
import type { AuthService } from './auth-service.js';
import { classifySecret } from './credentials-store.js';
import { LoginBusyError, type LoginManager } from './login-manager.js';
import { pageCsp, renderAuthPage, renderKeyForm, SIGN_IN_TARGETS } from './page.js';
import { csrfMatches, WebSessions, type Flash, type WebSession } from './web-session.js';

export interface AuthRouteDeps {
  auth: AuthService;
  logins: LoginManager;
  /** The pool of credentials (/auth/accounts), when the gateway has one. */
  accounts?: AccountAdmin;
  keys: string[];
  log: Logger;
  /** Failed key checks here count with the API's (app.ts): an address guessing keys is refused a while. */
  throttle?: AuthThrottle;
  addressOf?: (c: Context) => string;
  /** The page's sessions, shared with the other parts behind the same sign-in (the dashboard, the admin API). */
  sessions?: WebSessions;
}

const BODY_LIMIT = 64 * 1024;
const codeSchema = z.object({ code: z.string().trim().min(1, 'Paste the code from the sign-in page.').max(4096).regex(/^[\x21-\x7e]+$/, 'The code has characters a sign-in code never has.') });
const tokenSchema = z.object({ token: z.string().trim().min(1, 'Paste a token or an API key.').max(4096) });
const keySchema = z.object({ key: z.string().min(1).max(1024), next: z.enum(SIGN_IN_TARGETS).catch('/auth').default('/auth') });

const isForm = (c: Context) => /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(c.req.header('content-type') ?? '');

/** A form body. One that cannot be read (broken multipart, a wrong boundary) is the client's mistake: a 400, not a 500. */
async function readForm(c: Context): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody();
  } catch {
    throw new GatewayError('invalid_request', 'The form body could not be read: send well-formed application/x-www-form-urlencoded or multipart/form-data, or JSON.', {
      code: 'invalid_body',
    });
  }
}

function deny(c: Context, err: GatewayError): Response {
  return errorResponse(c, err, openAIErrorBody);
}

/** 403 for a post that did not come from our page: a CSRF failure, not a wrong key. */
function forbidden(c: Context, message: string): Response {
  return c.json({ error: { message, type: 'permission_error', param: null, code: 'csrf_failed' } }, 403);
}

/** hono's origin check (Origin / Sec-Fetch-Site must be this site), as a yes/no. */
const originCheck = csrf();
async function sameOrigin(c: Context): Promise<boolean> {
  try {
    await originCheck(c, async () => {});
    return true;
  } catch {
    return false;
  }
}

function html(c: Context, body: (nonce: string) => string, status: 200 | 401 | 429 = 200): Response {
  const nonce = crypto.randomBytes(16).toString('base64');
  c.header('Content-Security-Policy', pageCsp(nonce));
  c.header('Cache-Control', 'no-store');
  c.header('X-Frame-Options', 'DENY');
  c.header('X-Content-Type-Options', 'nosniff');
  return c.html(body(nonce), status);
}

export function registerAuthRoutes(app: Hono, deps: AuthRouteDeps): void {
  const { auth, logins, keys, log, throttle } = deps;
  const addressOf = deps.addressOf ?? (() => 'unknown');
  /** Seconds this client must wait before its next key is checked, if it is refused now. */
  const refusedFor = (c: Context) => (throttle ? throttle.retryAfter(addressOf(c)) : undefined);
  const failed = (c: Context) => throttle?.fail(addressOf(c));
  // Shared with the admin API (app.ts), which takes the same session as the admin key.
  const sessions = deps.sessions ?? new WebSessions();
  const sessionOf = new WeakMap<Request, WebSession>();

  /** A form post answers with a redirect back to the page (and a message on it); an API call with JSON. */
  function reply(c: Context, flash: Flash | undefined, json: object, status: 200 | 202 | 400 | 404 | 409 = 200): Response {
    const s = sessionOf.get(c.req.raw);
    if (isForm(c) && s) {
      if (flash) s.flash = flash;
      return c.redirect('/auth', 303);
    }
    return c.json(json, status);
  }

  async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
    if (isForm(c)) return validate(schema, await readForm(c));
    return validate(schema, await readJson(c, BODY_LIMIT));
  }

  const guard: MiddlewareHandler = async (c, next) => {
    const key = presentedKey((n) => c.req.header(n));
    if (key) {
      const wait = refusedFor(c);
      if (wait !== undefined) return deny(c, AuthThrottle.refusal(wait));
      if (!keyMatches(key, keys)) {
        failed(c);
        return deny(c, new GatewayError('authentication', 'Incorrect API key provided.', { code: 'invalid_api_key' }));
      }
      const s = sessions.fromRequest(c);
      if (s) sessionOf.set(c.req.raw, s);
      return next();
    }
    // The key form checks the key itself (and hono's csrf() the request's origin).
    if (c.req.method === 'POST' && c.req.path === '/auth/session') return next();
    const s = sessions.fromRequest(c);
    if (!s) {
      if (c.req.method === 'GET' && c.req.path === '/auth') return html(c, (n) => renderKeyForm(n), 401);
      return deny(c, new GatewayError('authentication', 'Missing API key: send it as Authorization: Bearer <key> or x-api-key, or sign in at /auth.', { code: 'invalid_api_key' }));
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const given = c.req.header('x-csrf-token') ?? (isForm(c) ? String((await readForm(c)).csrf ?? '') : undefined);
      if (!csrfMatches(given, s.csrf)) {
        log.warn({ path: c.req.path }, 'auth form post without a valid CSRF token');
        return forbidden(c, 'The form is out of date or did not come from this page: reload /auth and try again.');
      }
    }
    sessionOf.set(c.req.raw, s);
    return next();
  };
  app.use('/auth', guard);
  app.use('/auth/*', bodyLimit({ maxSize: BODY_LIMIT, onError: (c) => deny(c, new GatewayError('request_too_large', 'The request body is too large.')) }));
  app.use('/auth/*', guard);

  app.get('/auth', (c) => {
    const s = sessionOf.get(c.req.raw) ?? sessions.create(c);
    const flash = s.flash;
    s.flash = undefined;
    return html(c, (nonce) => renderAuthPage({ status: auth.status(), login: logins.view(), csrf: s.csrf, flash, nonce, accounts: !!deps.accounts }));
  });

  app.post('/auth/session', async (c) => {
    if (!(await sameOrigin(c))) return forbidden(c, 'Sign in from the /auth page of this gateway.');
    let key: string;
    let next: (typeof SIGN_IN_TARGETS)[number] = '/auth';
    try {
      const form = await c.req.parseBody();
      if (form.next === '/dashboard') next = '/dashboard';
      ({ key, next } = validate(keySchema, form));
    } catch {
      return html(c, (n) => renderKeyForm(n, 'Enter the gateway API key.', { next }), 401);
    }
    const wait = refusedFor(c);
    if (wait !== undefined) {
      c.header('Retry-After', String(wait));
      return html(c, (n) => renderKeyForm(n, `Too many wrong keys from this address: try again in ${wait} s.`, { next }), 429);
    }
    if (!keyMatches(key, keys)) {
      failed(c);
      return html(c, (n) => renderKeyForm(n, 'That is not the gateway API key.', { next }), 401);
    }
    sessions.create(c);
    return c.redirect(next, 303);
  });

  app.post('/auth/session/end', (c) => {
    sessions.end(c, sessionOf.get(c.req.raw));
    return c.redirect('/auth', 303);
  });

  app.get('/auth/status', (c) => c.json(auth.status()));

  app.post('/auth/verify', async (c) => {
    const ac = clientAbort(c);
    const r = await auth.verify(ac.signal);
    return reply(c, { kind: r.ok ? 'ok' : 'error', message: r.message }, r);
  });

  app.get('/auth/login', (c) => c.json({ login: logins.view() }));

  app.post('/auth/login/start', async (c) => {
    try {
      logins.start();
    } catch (e) {
      if (e instanceof LoginBusyError) return reply(c, { kind: 'error', message: e.message }, openAIErrorBody(new GatewayError('invalid_request', e.message, { code: 'login_in_progress' })), 409);
      throw e;
    }
    // Answer once the sign-in link is there (or the start failed): no client needs to poll for it.
    const view = await logins.waitForLink();
    return reply(c, undefined, { login: view });
  });

  app.post('/auth/login/code', async (c) => {
    const { code } = await body(c, codeSchema);
    if (logins.view()?.state !== 'awaiting_code') {
      const msg = 'No login is waiting for a code: start one with "Log in with Claude".';
      return reply(c, { kind: 'error', message: msg }, openAIErrorBody(new GatewayError('invalid_request', msg, { code: 'no_login_in_progress' })), 409);
    }
    return reply(c, undefined, { login: await logins.submitCode(code) });
  });

  app.post('/auth/login/cancel', (c) => reply(c, { kind: 'ok', message: 'The login was cancelled.' }, { login: logins.cancel() }));

  app.post('/auth/token', async (c) => {
    const { token } = await body(c, tokenSchema);
    const kind = classifySecret(token);
    if (!kind) {
      const msg = 'That is neither a Claude token (sk-ant-oat01-…) nor an Anthropic API key (sk-ant-api03-…). Copy it again, whole.';
      return reply(c, { kind: 'error', message: msg }, openAIErrorBody(new GatewayError('invalid_request', msg, { param: 'token', code: 'invalid_value' })), 400);
    }
    const { shadowedBy } = auth.storeCredential({ kind, secret: token, origin: 'pasted', expires_at: null });
    if (shadowedBy) {
      const msg = `Stored, but ${shadowedBy} takes precedence and stays in use. Remove it to use the pasted ${kind === 'api_key' ? 'key' : 'token'}.`;
      return reply(c, { kind: 'error', message: msg }, { stored: true, shadowed_by: shadowedBy, verification: null, status: auth.status() });
    }
    const v = await auth.verify(clientAbort(c).signal);
    const message = v.ok ? `Saved and in use. ${v.message}` : `Saved and in use, but: ${v.message}`;
    return reply(c, { kind: v.ok ? 'ok' : 'error', message }, { stored: true, shadowed_by: null, verification: { ok: v.ok, message: v.message }, status: v.status });
  });

  if (deps.accounts) registerAccountRoutes(app, deps.accounts, { reply, body });

  app.post('/auth/logout', (c) => {
    const { removed, status } = auth.logout();
    const now = status.source ? ` Now using ${status.source}.` : ' The gateway has no Claude credentials now.';
    const message = removed ? `Logged out: the stored credential was deleted.${now}` : `This gateway had no stored credential to remove.${now}`;
    return reply(c, { kind: 'ok', message }, { removed, status });
  });
}
