// The gateway's view of its Claude credentials: which source is active (sources.ts), handing exactly
// that one to the engine, the stored login (credentials-store.ts), and the truthful status
// (status.ts) that real turns keep up to date through the engine's TurnObserver.
import fs from 'node:fs';
import type { Engine, TurnObserver } from '../engine/engine.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { CredentialsStore, type StoredCredential } from './credentials-store.js';
import type { SecretDoc } from './secret-doc.js';
import type { AccountSnapshot } from '../accounts/accounts.js';
import { listSources, type CredentialSource } from './sources.js';
import { buildStatus, VerificationTracker, type AuthStatus } from './status.js';

export interface AuthServiceDeps {
  dataDir: string;
  /** The environment credentials are read from (process.env, or a test's). */
  env: NodeJS.ProcessEnv;
  log: Logger;
  cliVersion: string | null;
  /** Where the stored login is kept: the file in the data dir unless given (the shared store, cluster/). */
  doc?: SecretDoc;
}

export interface VerifyResult {
  ok: boolean;
  /** Plain words: what happened and what to do. */
  message: string;
  status: AuthStatus;
}

/** The reason shown when a real request was refused: our words, never the CLI's raw text. */
const REFUSED =
  'The Anthropic API refused the credentials on a real request (authentication failed). Log in again at /auth or with `claude-code-gateway login`, or replace the key.';

export class AuthService {
  readonly store: CredentialsStore;
  private readonly tracker: VerificationTracker;
  private sources: CredentialSource[] = [];
  private engine: Pick<Engine, 'setCredentialEnv' | 'start' | 'catalog'> | undefined;
  private activeFp: string | undefined;
  private watcher: fs.FSWatcher | undefined;

  /** Handed to the engine: real turns keep the status truthful. */
  readonly observer: TurnObserver = {
    onTurnSuccess: () => this.tracker.markSuccess(),
    onUpstreamAuthFailure: () => {
      this.tracker.markAuthFailure(REFUSED);
      this.deps.log.warn({ method: this.sources[0]?.method, source: this.sources[0]?.source }, 'upstream refused the credentials');
    },
  };

  constructor(private readonly deps: AuthServiceDeps) {
    this.store = new CredentialsStore(deps.dataDir, deps.doc);
    this.tracker = new VerificationTracker(deps.dataDir);
    this.refresh();
  }

  /** Connect the engine and give it the active credential; watch the data dir for `login` from the CLI. */
  attach(engine: Pick<Engine, 'setCredentialEnv' | 'start' | 'catalog'>): void {
    this.engine = engine;
    this.activeFp = undefined;
    this.refresh();
    try {
      // `claude-code-gateway login` in another process writes the same file: pick it up without a restart.
      this.watcher = fs.watch(this.deps.dataDir, (_ev, name) => {
        if (name === this.store.file.split('/').pop()) this.refresh();
      });
      this.watcher.unref();
    } catch {
      /* no watching on this filesystem: /auth/status and failures still re-read the sources */
    }
  }

  close(): void {
    this.watcher?.close();
  }

  /** The pool of credentials (accounts/), when the gateway has one: its members join the status. */
  accounts: { snapshot(): AccountSnapshot[] } | undefined;

  /** The active source as last read (the pool's default member), without reading the sources again. */
  current(): CredentialSource | undefined {
    return this.sources[0];
  }

  /** Re-read every source; when the active credential changed, hand the new one to the engine. */
  refresh(): CredentialSource | undefined {
    this.sources = listSources(this.deps.env, this.store);
    const active = this.sources[0];
    const fp = active?.fingerprint ?? 'none';
    this.tracker.setActive(fp);
    if (this.engine && fp !== this.activeFp) {
      this.activeFp = fp;
      this.engine.setCredentialEnv(active?.env ?? {});
      this.deps.log.info({ method: active?.method ?? null, source: active?.source ?? null }, 'claude credentials in use');
    }
    return active;
  }

  status(): AuthStatus {
    this.refresh();
    const status = buildStatus(this.sources, this.tracker.get(), this.deps.cliVersion);
    if (!this.accounts) return status;
    const accounts = this.accounts.snapshot();
    // The plan windows of the credential the top-level fields describe; every member's in `accounts`.
    return { ...status, plan: accounts.find((a) => a.name === 'default')?.plan ?? null, accounts };
  }

  /** Store a credential from our login (or pasted) and switch to it; says so if a higher source wins. */
  storeCredential(cred: Omit<StoredCredential, 'created_at'>): { status: AuthStatus; shadowedBy: string | null } {
    this.store.write(cred);
    const active = this.refresh();
    const shadowedBy = active && active.id !== 'stored' ? active.source : null;
    this.deps.log.info({ kind: cred.kind, origin: cred.origin, shadowedBy }, 'stored claude credentials');
    return { status: this.status(), shadowedBy };
  }

  logout(): { removed: boolean; status: AuthStatus } {
    const removed = this.store.remove();
    this.refresh();
    this.deps.log.info({ removed }, 'stored claude credentials removed');
    return { removed, status: this.status() };
  }

  /** The smallest real request: one short turn on the cheapest model the CLI offers. */
  async verify(signal: AbortSignal = new AbortController().signal): Promise<VerifyResult> {
    const active = this.refresh();
    if (!this.engine) throw new Error('AuthService.verify before attach');
    if (!active) return { ok: false, message: 'There are no Claude credentials to verify: log in first.', status: this.status() };
    const model = this.engine.catalog?.get('haiku') ? 'haiku' : 'default';
    try {
      // With a pool (accounts/), the turn runs with this credential, its "default" member, and no other.
      const ctx = this.accounts ? { account: 'default' } : {};
      const turn = await this.engine.start({ model, maxOutputTokens: 16, messages: [{ role: 'user', content: [{ type: 'text', text: 'Reply with the word OK.' }] }] }, signal, ctx);
      for await (const ev of turn.events) if (ev.type === 'done') break;
      // The engine's observer has marked it verified.
      return { ok: true, message: `The credentials work: a request to ${turn.model} succeeded.`, status: this.status() };
    } catch (e) {
      if (e instanceof GatewayError && e.kind === 'upstream_auth') {
        return { ok: false, message: REFUSED, status: this.status() };
      }
      const why = e instanceof GatewayError ? e.message : 'the request failed inside the gateway';
      this.tracker.markOtherError(`Verification could not finish: ${why}`);
      return { ok: false, message: `Could not verify the credentials now: ${why} This does not mean they are wrong; try again shortly.`, status: this.status() };
    }
  }
}
