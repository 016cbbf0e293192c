// `claude-code-gateway login | status | logout`: the same storage and the same status as /auth, for a
// terminal. login drives `claude setup-token` through the same PTY driver the web page uses.
import readline from 'node:readline/promises';
import { poolLoginArgs, storePoolLogin, type PoolLoginArgs } from '../accounts/cli-commands.js';
import { loadConfig } from '../config/config.js';
import { bundledClaudePath, claudeVersion } from '../engine/claude-binary.js';
import { allowlistedEnv } from '../engine/child-env.js';
import { createLogger } from '../log.js';
import { AuthService } from './auth-service.js';
import { classifySecret, maskSecret } from './credentials-store.js';
import { loginEnv } from './login-manager.js';
import { LoginSession } from './login-session.js';
import { loginDocs } from './secret-doc.js';
import type { AuthStatus } from './status.js';

function service(cliVersion: string | null = null) {
  const config = loadConfig();
  const auth = new AuthService({ dataDir: config.dataDir, env: process.env, log: createLogger('silent'), cliVersion, doc: loginDocs.credentials });
  return { config, auth };
}

const say = (s: string) => process.stdout.write(s + '\n');
const warn = (s: string) => process.stderr.write(s + '\n');

function stored(auth: AuthService, kind: 'oauth_token' | 'api_key', secret: string, origin: 'setup-token' | 'pasted', expiresAt: string | null): void {
  const { shadowedBy } = auth.storeCredential({ kind, secret, origin, expires_at: expiresAt });
  say(`Stored ${kind === 'api_key' ? 'API key' : 'token'} ${maskSecret(secret)} in ${auth.store.where}${expiresAt ? `, valid until ${expiresAt}` : ''}.`);
  if (shadowedBy) warn(`Note: ${shadowedBy} takes precedence, so the gateway keeps using it until it is removed.`);
  else say('A running gateway switches to it at once. Check it with `claude-code-gateway status`, or POST /auth/verify.');
}

/** `login --token`: read a token or key from standard input (never from argv, which `ps` shows). */
async function loginWithToken(auth: AuthService, named?: PoolLoginArgs): Promise<number> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  const secret = (await rl.question(process.stdin.isTTY ? 'Paste the token or API key: ' : ''))?.trim() ?? '';
  rl.close();
  const kind = classifySecret(secret);
  if (!kind) {
    warn('That is neither a Claude token (sk-ant-oat01-…) nor an Anthropic API key (sk-ant-api03-…).');
    return 1;
  }
  if (named) return storePoolLogin(named, secret, 'pasted', null);
  stored(auth, kind, secret, 'pasted', null);
  return 0;
}

export async function loginCommand(args: string[]): Promise<number> {
  const { config, auth } = service();
  // --name NAME: a credential of the pool (accounts/) instead of the gateway's one stored login.
  let named: PoolLoginArgs | undefined;
  try {
    named = poolLoginArgs(args);
  } catch (e) {
    warn((e as Error).message);
    return 2;
  }
  if (args.includes('--token')) return loginWithToken(auth, named);
  const claudePath = config.claudePath ?? bundledClaudePath();
  if (!claudePath) {
    warn('No Claude Code CLI found: set GATEWAY_CLAUDE_PATH.');
    return 1;
  }
  const session = new LoginSession({ claudePath, env: loginEnv(process.env), cwd: config.dataDir, timeoutMs: config.loginTimeoutMs });
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  const onSigint = () => session.cancel();
  process.once('SIGINT', onSigint);
  // A question must not outlive the session (timeout, CLI exit) or a closed standard input.
  const ended = session.waitFor(['succeeded', 'failed', 'cancelled']).then(() => null);
  const closed = new Promise<null>((r) => rl.once('close', () => r(null)));
  try {
    say('Starting `claude setup-token`…');
    for (;;) {
      const snap = await session.waitFor(['awaiting_code']);
      if (session.done) break;
      if (snap.error) warn(snap.error.message);
      say(`\nOpen this link, sign in with your Claude account and approve:\n\n  ${snap.url}\n`);
      const answer = await Promise.race([rl.question('Paste the code here: '), ended, closed]);
      if (answer === null) {
        session.cancel();
        break;
      }
      const code = answer.trim();
      if (!code) continue;
      session.submitCode(code);
      await session.waitFor(['starting', 'awaiting_code']);
      if (session.done) break;
    }
  } finally {
    rl.close();
    process.removeListener('SIGINT', onSigint);
  }
  const end = session.snapshot();
  await session.exited;
  const result = session.takeResult();
  if (end.state !== 'succeeded' || !result) {
    warn(end.state === 'cancelled' ? 'Login cancelled.' : `Login failed: ${end.error?.message ?? 'unknown reason'}`);
    return 1;
  }
  say('Logged in with Claude.');
  if (named) return storePoolLogin(named, result.token, 'setup-token', result.expiresAt);
  stored(auth, 'oauth_token', result.token, 'setup-token', result.expiresAt);
  return 0;
}

function printStatus(s: AuthStatus): void {
  const v = s.verified === null ? 'not yet' : s.verified ? `yes (${s.verified_at})` : 'no: refused by the Anthropic API';
  const lines: [string, string | null][] = [
    ['authenticated', s.authenticated ? 'yes' : 'no'],
    ['method', s.method],
    ['source', s.source],
    ['credential', s.credential],
    ['verified', v],
    ['expires_at', s.expires_at],
    ['subscription', s.subscription],
    ['cli_version', s.cli_version],
    ['last_error', s.last_error ? `${s.last_error.message} (${s.last_error.at})` : null],
  ];
  for (const [k, val] of lines) say(`${k.padEnd(14)}${val ?? '—'}`);
  for (const src of s.sources.slice(1)) say(`${'also present'.padEnd(14)}${src.source} (not used: lower precedence)`);
}

/** Exit code 0 when authenticated, 1 when not: usable as a deployment check. */
export async function statusCommand(args: string[]): Promise<number> {
  const config = loadConfig();
  const claudePath = config.claudePath ?? bundledClaudePath();
  const version = claudePath ? await claudeVersion(claudePath, allowlistedEnv(process.env)).catch(() => null) : null;
  const { auth } = service(version);
  const s = auth.status();
  if (args.includes('--json')) say(JSON.stringify(s, null, 2));
  else printStatus(s);
  return s.authenticated ? 0 : 1;
}

export async function logoutCommand(): Promise<number> {
  const { auth } = service();
  const { removed, status } = auth.logout();
  say(removed ? `Removed the stored credential (${auth.store.where}).` : 'There was no stored credential to remove.');
  if (status.source) say(`Still configured: ${status.source} (remove it there to log out completely).`);
  return 0;
}
