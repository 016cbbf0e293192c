// Sessions for the /auth page and the /dashboard: entering the gateway key once sets an HttpOnly,
// SameSite=Strict cookie (path /, so the dashboard and the admin API it calls get it too). Each session has its own CSRF token that every form post must carry.
// Sessions live in memory: a restarted gateway asks for the key again, which is the safe default.
import crypto from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

export const SESSION_COOKIE = 'ccg_auth';
const TTL_MS = 12 * 60 * 60_000;
const MAX_SESSIONS = 1000;

export interface Flash {
  kind: 'ok' | 'error';
  message: string;
}

export interface WebSession {
  id: string;
  csrf: string;
  expires: number;
  /** One message for the next page view (after a form post redirects back). */
  flash?: Flash;
}

export class WebSessions {
  private readonly sessions = new Map<string, WebSession>();

  /**
   * `key` (several replicas, cluster/keys.ts): a session id carries its expiry and a signature, and its
   * CSRF token is derived from it, so every replica recognises a session another one opened.
   */
  constructor(private readonly key?: Buffer) {}

  private sign(what: string): string {
    return crypto.createHmac('sha256', this.key!).update(what).digest('base64url');
  }

  /** A session another replica opened: its signature and expiry checked, its CSRF token derived again. */
  private signed(id: string): WebSession | undefined {
    if (!this.key) return undefined;
    const [expires, rand, sig] = id.split('.');
    if (!expires || !rand || !sig) return undefined;
    const want = Buffer.from(this.sign(`session\0${expires}.${rand}`));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !crypto.timingSafeEqual(want, got) || Number(expires) < Date.now()) return undefined;
    const s: WebSession = { id, csrf: this.sign(`csrf\0${id}`), expires: Number(expires) };
    this.sessions.set(id, s);
    return s;
  }

  create(c: Context): WebSession {
    this.sweep();
    const expires = Date.now() + TTL_MS;
    const rand = crypto.randomBytes(32).toString('base64url');
    const id = this.key ? `${expires}.${rand}.${this.sign(`session\0${expires}.${rand}`)}` : rand;
    const s: WebSession = { id, csrf: this.key ? this.sign(`csrf\0${id}`) : crypto.randomBytes(32).toString('base64url'), expires };
    this.sessions.set(s.id, s);
    const secure = new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
    setCookie(c, SESSION_COOKIE, s.id, { httpOnly: true, sameSite: 'Strict', path: '/', secure, maxAge: TTL_MS / 1000 });
    return s;
  }

  fromRequest(c: Context): WebSession | undefined {
    const id = getCookie(c, SESSION_COOKIE);
    if (!id) return undefined;
    const s = this.sessions.get(id) ?? this.signed(id);
    if (!s) return undefined;
    if (s.expires < Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  end(c: Context, s: WebSession | undefined): void {
    if (s) this.sessions.delete(s.id);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.expires < now) this.sessions.delete(id);
    // Bounded: someone with the key creating sessions in a loop must not grow memory without end.
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}
