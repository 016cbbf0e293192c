// One interactive login at a time, for the web page (and anything else in the gateway process). A
// finished login stores the token, switches the engine to it (AuthService.refresh, no restart) and
// proves it with a real request; the page shows each of those steps.
import { allowlistedEnv, withoutCredentials } from '../engine/child-env.js';
import type { Logger } from '../log.js';
import type { AuthService } from './auth-service.js';
import { LoginSession, type LoginSnapshot } from './login-session.js';

export interface LoginView extends LoginSnapshot {
  /** After success: the token is stored; a higher-precedence source may still be the active one. */
  stored: boolean;
  shadowed_by: string | null;
  /** After success: the real request that proves the new token (null while it runs). */
  verification: { ok: boolean; message: string } | null;
  /** True while anything is still to happen (the PTY runs, or verification is under way). */
  busy: boolean;
}

export class LoginBusyError extends Error {
  constructor() {
    super('A login is already in progress: finish or cancel it first.');
  }
}

export interface LoginManagerDeps {
  claudePath: string;
  baseEnv: NodeJS.ProcessEnv;
  dataDir: string;
  auth: AuthService;
  log: Logger;
  timeoutMs: number;
}

/** The environment `claude setup-token` runs with: no credential variables (it makes one), no display. */
export function loginEnv(baseEnv: NodeJS.ProcessEnv): Record<string, string> {
  return { ...withoutCredentials(allowlistedEnv(baseEnv)), DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' };
}

export class LoginManager {
  private session: LoginSession | undefined;
  private stored = false;
  private shadowedBy: string | null = null;
  private verification: LoginView['verification'] = null;
  /** Settles when the current session has ended and its success (if any) is stored and verified. */
  private settled: Promise<void> = Promise.resolve();

  constructor(private readonly deps: LoginManagerDeps) {}

  start(): LoginView {
    if (this.session && !this.session.done) throw new LoginBusyError();
    this.stored = false;
    this.shadowedBy = null;
    this.verification = null;
    const s = new LoginSession({
      claudePath: this.deps.claudePath,
      env: loginEnv(this.deps.baseEnv),
      cwd: this.deps.dataDir,
      timeoutMs: this.deps.timeoutMs,
    });
    this.session = s;
    this.deps.log.info({ login: s.id }, 'login started');
    this.settled = s.waitFor(['succeeded', 'failed', 'cancelled']).then((snap) => this.afterEnd(s, snap));
    return this.view()!;
  }

  private async afterEnd(s: LoginSession, snap: LoginSnapshot): Promise<void> {
    this.deps.log.info({ login: s.id, state: snap.state, reason: snap.error?.reason }, 'login ended');
    const result = s.takeResult();
    if (snap.state !== 'succeeded' || !result) return;
    const { shadowedBy } = this.deps.auth.storeCredential({ kind: 'oauth_token', secret: result.token, origin: 'setup-token', expires_at: result.expiresAt });
    this.stored = true;
    this.shadowedBy = shadowedBy;
    if (shadowedBy) {
      this.verification = { ok: false, message: `The token is stored, but ${shadowedBy} takes precedence and stays in use. Remove it to use this login.` };
      return;
    }
    const v = await this.deps.auth.verify();
    this.verification = { ok: v.ok, message: v.message };
  }

  /** Resolves once the current login has reached an end state and its aftermath is done. */
  async waitSettled(): Promise<LoginView | null> {
    await this.settled;
    return this.view();
  }

  /** Resolves once the link is shown (or the login ended). */
  async waitForLink(): Promise<LoginView | null> {
    await this.session?.waitFor(['awaiting_code']);
    return this.view();
  }

  /** Type the code; resolves when the CLI has answered it (token stored and verified, retry, or failure). */
  async submitCode(code: string): Promise<LoginView> {
    const s = this.session;
    if (!s || s.snapshot().state !== 'awaiting_code') throw new Error('No login is waiting for a code: start one first.');
    s.submitCode(code);
    await s.waitFor(['awaiting_code', 'starting']);
    // A bad code restarts the CLI's flow ('starting' until the new link shows).
    if (!s.done) await s.waitFor(['awaiting_code']);
    if (s.done) await this.settled;
    return this.view()!;
  }

  cancel(): LoginView | null {
    this.session?.cancel();
    return this.view();
  }

  view(): LoginView | null {
    const s = this.session;
    if (!s) return null;
    const snap = s.snapshot();
    const verifying = snap.state === 'succeeded' && !this.verification;
    return { ...snap, stored: this.stored, shadowed_by: this.shadowedBy, verification: this.verification, busy: !s.done || verifying };
  }

  /** Stop any login (gateway shutdown): its PTY must not outlive the gateway. */
  async close(): Promise<void> {
    const s = this.session;
    if (!s) return;
    s.cancel();
    await s.exited;
  }
}
