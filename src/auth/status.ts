// What the gateway knows about its Claude credentials, truthfully: "a credential is configured" is
// not "it works". verified is true only after a real model call succeeded with the active credential,
// false after the upstream refused it, null when nothing has been tried yet. The verification state
// is kept per credential fingerprint in the data dir, so `claude-code-gateway status` and a restarted
// gateway report what was last seen instead of forgetting it.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AuthMethod, CredentialSource } from './sources.js';

export const STATE_FILE = 'auth-state.json';

const stateSchema = z.object({
  fingerprint: z.string(),
  verified: z.boolean().nullable(),
  verified_at: z.string().nullable(),
  last_error: z.object({ message: z.string(), at: z.string() }).nullable(),
});
export type VerificationState = z.infer<typeof stateSchema>;

export interface AuthStatus {
  /** A credential is active and the upstream has not refused it (and it has not expired). */
  authenticated: boolean;
  method: AuthMethod | null;
  source: string | null;
  /** At most a short suffix of the secret. */
  credential: string | null;
  verified: boolean | null;
  verified_at: string | null;
  expires_at: string | null;
  subscription: string | null;
  cli_version: string | null;
  last_error: { message: string; at: string } | null;
  /** Every credential source present, in precedence order; the first is the active one. */
  sources: { method: AuthMethod; source: string; active: boolean }[];
  /** The Claude plan's windows for the active credential (a subscription login's latest rate_limit_event). */
  plan?: import('../accounts/plan-limits.js').PlanLimits | null;
  /** Every credential of the pool (accounts/): state, plan windows, turns served, live conversations. */
  accounts?: import('../accounts/accounts.js').AccountSnapshot[];
}

/** Rewrite the file for a repeated success at most this often: every request succeeding is not news. */
const SUCCESS_PERSIST_MS = 60_000;

export class VerificationTracker {
  private readonly file: string;
  private state: VerificationState;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, STATE_FILE);
    this.state = readState(this.file) ?? { fingerprint: '', verified: null, verified_at: null, last_error: null };
  }

  /** Called when the active credential may have changed: another credential starts unverified. */
  setActive(fp: string): void {
    if (this.state.fingerprint === fp) return;
    this.state = { fingerprint: fp, verified: null, verified_at: null, last_error: null };
    this.persist();
  }

  get(): VerificationState {
    return { ...this.state };
  }

  markSuccess(): void {
    const prev = this.state;
    const now = new Date();
    this.state = { ...prev, verified: true, verified_at: now.toISOString(), last_error: null };
    const stale = !prev.verified_at || now.getTime() - Date.parse(prev.verified_at) > SUCCESS_PERSIST_MS;
    if (prev.verified !== true || prev.last_error || stale) this.persist();
  }

  markAuthFailure(reason: string): void {
    const at = new Date().toISOString();
    this.state = { ...this.state, verified: false, last_error: { message: reason, at } };
    this.persist();
  }

  /** A failure that says nothing about the credential (overload, timeout): reported, verified kept. */
  markOtherError(message: string): void {
    this.state = { ...this.state, last_error: { message, at: new Date().toISOString() } };
    this.persist();
  }

  private persist(): void {
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(this.file, JSON.stringify(this.state, null, 2) + '\n', { mode: 0o600 });
    } catch {
      /* status stays right in memory; the file is a convenience for restarts and the CLI */
    }
  }
}

function readState(file: string): VerificationState | undefined {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function buildStatus(sources: CredentialSource[], v: VerificationState, cliVersion: string | null, now = Date.now()): AuthStatus {
  const active = sources[0];
  const same = active && v.fingerprint === active.fingerprint;
  const verified = same ? v.verified : null;
  const expired = !!active?.expiresAt && Date.parse(active.expiresAt) < now;
  return {
    authenticated: !!active && verified !== false && !expired,
    method: active?.method ?? null,
    source: active?.source ?? null,
    credential: active?.masked ?? null,
    verified,
    verified_at: same ? v.verified_at : null,
    expires_at: active?.expiresAt ?? null,
    subscription: active?.subscription ?? null,
    cli_version: cliVersion,
    last_error: !active
      ? { message: 'No Claude credentials: log in at /auth, run `claude-code-gateway login`, or set ANTHROPIC_API_KEY / CLAUDE_CODE_OAUTH_TOKEN.', at: new Date(now).toISOString() }
      : expired && !v.last_error
        ? { message: `The credential expired at ${active.expiresAt}: log in again.`, at: new Date(now).toISOString() }
        : same ? v.last_error : null,
    sources: sources.map((s, i) => ({ method: s.method, source: s.source, active: i === 0 })),
  };
}
