// Drives `claude setup-token` in a pseudo-terminal: waits for the sign-in URL and the paste prompt,
// types the code the person pasted, and captures the long-lived token the CLI prints. The CLI's
// screen is read through terminal-text.ts (cursor moves, OSC-8 links); every way it can end has a
// state and plain words with a way forward, and no PTY outlives its session (hard cap, cancel, exit).
import crypto from 'node:crypto';
import fs from 'node:fs';
import * as pty from '@lydell/node-pty';
import { findAuthorizeUrl, findOAuthToken, findValidity, normalizeTerminal } from './terminal-text.js';

export type LoginState = 'starting' | 'awaiting_code' | 'exchanging' | 'succeeded' | 'failed' | 'cancelled';
export type LoginFailure = 'bad_code' | 'unreachable' | 'timeout' | 'cli_missing' | 'cli_exited' | 'sign_in_failed';

export interface LoginSnapshot {
  id: string;
  state: LoginState;
  /** The sign-in URL to open, once the CLI has shown it. */
  url: string | null;
  /** Why it failed (or, for bad_code, why a new code is needed): plain words and what to do. */
  error: { reason: LoginFailure; message: string } | null;
  started_at: string;
  ended_at: string | null;
}

export interface LoginResult {
  token: string;
  expiresAt: string | null;
}

export interface LoginSessionOptions {
  claudePath: string;
  env: Record<string, string>;
  cwd: string;
  /** Hard cap on the whole session; the PTY is killed when it runs out. */
  timeoutMs?: number;
  /** How long the CLI may take to show the link, and to answer a submitted code. */
  stepTimeoutMs?: number;
}

const TERMINAL: ReadonlySet<LoginState> = new Set(['succeeded', 'failed', 'cancelled']);
const KILL_GRACE_MS = 1000;

const MESSAGES: Record<LoginFailure, string> = {
  bad_code: 'The sign-in service did not accept that code (wrong, expired or already used). Open the new link below, sign in again and paste the new code.',
  unreachable: "The Claude sign-in service could not be reached from the gateway's machine. Check its internet access (and HTTPS_PROXY if it needs a proxy), then start the login again — or paste a token made on another machine with `claude setup-token`.",
  timeout: 'The login took too long and was stopped. Start it again; paste the code soon after signing in.',
  cli_missing: 'The Claude Code CLI could not be started. Set GATEWAY_CLAUDE_PATH to a working `claude` executable (or reinstall the gateway), then try again.',
  cli_exited: 'The Claude CLI stopped before the login finished. Start the login again; if it keeps happening, run `claude setup-token` by hand and paste the token.',
  sign_in_failed: 'The sign-in did not finish. Start the login again; if it keeps failing, run `claude setup-token` by hand and paste the token.',
};

export function classifyOAuthError(text: string): LoginFailure {
  if (/couldn't get an answer|sign-in service|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|timed out|network|proxy/i.test(text)) return 'unreachable';
  if (/invalid authorization code|invalid[_ ]grant|invalid code|token exchange failed \(4\d\d\)|expired/i.test(text)) return 'bad_code';
  return 'sign_in_failed';
}

export class LoginSession {
  readonly id = crypto.randomUUID();
  private state: LoginState = 'starting';
  private url: string | null = null;
  private error: LoginSnapshot['error'] = null;
  private readonly startedAt = new Date().toISOString();
  private endedAt: string | null = null;
  private term: pty.IPty | undefined;
  private raw = '';
  /** Where the output of the current step begins (a retry shows a new link after this point). */
  private stepFrom = 0;
  private result: LoginResult | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stepTimer: NodeJS.Timeout | undefined;
  /** Resolves when the PTY process has exited (at once if it never started). */
  readonly exited: Promise<void>;
  private markExited!: () => void;

  constructor(private readonly opts: LoginSessionOptions) {
    this.exited = new Promise((r) => (this.markExited = r));
    try {
      fs.accessSync(opts.claudePath, fs.constants.X_OK);
      this.term = pty.spawn(opts.claudePath, ['setup-token'], {
        name: 'xterm-256color',
        // Wide, so the URL and the token are never wrapped across lines.
        cols: 500,
        rows: 60,
        cwd: opts.cwd,
        env: { ...opts.env, TERM: 'xterm-256color' },
      });
    } catch {
      this.markExited();
      this.fail('cli_missing');
      return;
    }
    this.term.onData((d) => this.onData(d));
    this.term.onExit(({ exitCode }) => this.onExit(exitCode));
    this.timers.push(setTimeout(() => this.fail('timeout'), opts.timeoutMs ?? 10 * 60_000));
    this.armStep();
  }

  get pid(): number | undefined {
    return this.term?.pid;
  }

  snapshot(): LoginSnapshot {
    return { id: this.id, state: this.state, url: this.url, error: this.error, started_at: this.startedAt, ended_at: this.endedAt };
  }

  get done(): boolean {
    return TERMINAL.has(this.state);
  }

  /** The captured token; only after state 'succeeded'. */
  takeResult(): LoginResult | undefined {
    return this.result;
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves with the snapshot once the state is one of `states` (or the session has ended). */
  waitFor(states: LoginState[]): Promise<LoginSnapshot> {
    return new Promise((resolve) => {
      const check = () => {
        if (states.includes(this.state) || this.done) {
          off();
          resolve(this.snapshot());
          return true;
        }
        return false;
      };
      const off = this.onChange(check);
      check();
    });
  }

  /** Type the code from the sign-in page into the CLI. Throws when no code is awaited. */
  submitCode(code: string): void {
    if (this.state !== 'awaiting_code' || !this.term) throw new Error(`no code is awaited (state ${this.state})`);
    this.stepFrom = this.raw.length;
    this.setState('exchanging');
    this.armStep();
    this.term.write(code + '\r');
  }

  cancel(): void {
    if (this.done) return;
    this.finish('cancelled');
  }

  private onData(d: string): void {
    this.raw += d;
    const screen = normalizeTerminal(this.raw.slice(this.stepFrom));
    if (this.state === 'starting') {
      const url = findAuthorizeUrl(screen);
      if (url && /paste code here/i.test(screen.text)) {
        this.url = url;
        this.clearStep();
        this.setState('awaiting_code');
        return;
      }
    }
    if (this.state === 'exchanging') {
      const token = findOAuthToken(screen.text);
      if (token) {
        this.result = { token, expiresAt: findValidity(screen.text) ?? null };
        this.finish('succeeded');
        return;
      }
    }
    if (this.state === 'starting' || this.state === 'exchanging') {
      const m = /OAuth error:\s*([^\n]+)\n/i.exec(screen.text);
      if (!m) return;
      const reason = classifyOAuthError(m[1]);
      if (reason === 'bad_code') {
        // The CLI offers "Press Enter to retry": it starts over with a new link, and we wait for it.
        this.error = { reason, message: MESSAGES.bad_code };
        this.stepFrom = this.raw.length;
        this.url = null;
        this.setState('starting');
        this.armStep();
        this.term?.write('\r');
        return;
      }
      this.fail(reason);
    }
  }

  private onExit(code: number): void {
    this.markExited();
    this.clearTimers();
    if (!this.done) this.fail('cli_exited', code ? ` (exit code ${code})` : '');
  }

  private armStep(): void {
    this.clearStep();
    this.stepTimer = setTimeout(() => this.fail('timeout'), this.opts.stepTimeoutMs ?? 120_000);
  }

  private clearStep(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = undefined;
  }

  private clearTimers(): void {
    this.clearStep();
    this.timers.forEach(clearTimeout);
  }

  private fail(reason: LoginFailure, detail = ''): void {
    if (this.done) return;
    const base = MESSAGES[reason];
    this.error = { reason, message: detail ? base.replace('.', `${detail}.`) : base };
    this.finish('failed');
  }

  private finish(state: LoginState): void {
    this.clearTimers();
    if (state === 'succeeded') this.error = null;
    this.raw = ''; // the screen held the token: keep it no longer than needed
    this.endedAt = new Date().toISOString();
    this.setState(state);
    this.kill();
  }

  private kill(): void {
    const t = this.term;
    if (!t) return;
    try {
      t.kill('SIGTERM');
    } catch {
      /* already gone */
    }
    const hard = setTimeout(() => {
      try {
        t.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }, KILL_GRACE_MS);
    void this.exited.then(() => clearTimeout(hard));
  }

  private setState(s: LoginState): void {
    this.state = s;
    for (const fn of [...this.listeners]) fn();
  }
}
