// Wires configuration, engine and HTTP server together; start() listens, stop() drains.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Accounts } from './accounts/accounts.js';
import { AccountAdmin } from './accounts/manage.js';
import { AuthService } from './auth/auth-service.js';
import { LoginManager } from './auth/login-manager.js';
import { resolveApiKeys } from './config/api-key.js';
import { ConfigError, isLoopbackHost, type GatewayConfig } from './config/config.js';
import { allowlistedEnv } from './engine/child-env.js';
import { bundledClaudePath, claudeVersion } from './engine/claude-binary.js';
import { openStore } from './conversations/stores/open-store.js';
import type { ConversationStore } from './conversations/stores/store.js';
import { Engine } from './engine/engine.js';
import { conversationsFor } from './conversations/conversations.js';
import { prepareWorkDir } from './engine/workdir.js';
import { Admin } from './admin/admin.js';
import { createApp } from './app.js';
import { Cluster } from './cluster/cluster.js';
import { OpenStreams } from './http/request-scope.js';
import { createLogger, type Logger } from './log.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** The environment the CLI's credentials and proxies come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Models to keep a warm process for from the start. */
  prewarm?: string[];
  /** The conversation store (default: openStore on the config); tests pass the old FileStore. */
  store?: ConversationStore;
}

export interface Gateway {
  url: string;
  config: GatewayConfig;
  engine: Engine;
  keys: string[];
  cliVersion: string;
  /** The Claude credentials in use, and their status. */
  auth: AuthService;
  /** The pool of Claude credentials: per-credential state and plan windows (snapshot()). */
  accounts: Accounts;
  logins: LoginManager;
  /** App keys and usage. */
  admin: Admin;
  /** With GATEWAY_REDIS_URL: this replica's part of the cluster (cluster/). */
  cluster?: Cluster;
  stop(): Promise<void>;
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config } = opts;
  const env = opts.env ?? process.env;
  const log = opts.log ?? createLogger(config.logLevel);

  if (!isLoopbackHost(config.host) && !config.apiKeys.length) {
    throw new ConfigError(`Refusing to listen on ${config.host} without GATEWAY_API_KEY: a generated key is only allowed on loopback.`);
  }
  ensureDataDir(config.dataDir);
  // Built-in tools get a working directory per process instead (process-factory.ts).
  if (!config.builtinTools.length) prepareWorkDir(config.cliWorkDir);
  const keyInfo = onDataDir(config.dataDir, () => resolveApiKeys(config.apiKeys, config.dataDir));

  const claudePath = config.claudePath ?? bundledClaudePath();
  if (!claudePath) throw new ConfigError('No Claude Code CLI found: the Agent SDK ships none for this platform. Set GATEWAY_CLAUDE_PATH.');
  const cliVersion = await claudeVersion(claudePath, allowlistedEnv(env));

  // Several replicas (cluster/): the Claude login is read from the shared store, so it is loaded first.
  const cluster = config.redisUrl ? new Cluster(config, log) : undefined;
  await cluster?.load();
  // Credentials are chosen before the first CLI process starts; real turns keep their status truthful.
  const auth = new AuthService({ dataDir: config.dataDir, env, log, cliVersion, doc: cluster?.docs.doc('credentials') });
  const store = opts.store ?? openStore({ dataDir: config.dataDir, redisUrl: config.redisUrl, retentionMs: config.conversationRetentionDays * 86_400_000, log });
  // The pool of credentials: the one above is its "default" member (accounts/).
  const accounts = onDataDir(config.dataDir, () => new Accounts({ dataDir: config.dataDir, env, log, defaultSource: () => auth.current(), doc: cluster?.docs.doc('accounts') }));
  auth.accounts = accounts;
  const engine = new Engine({ config, log, claudePath, baseEnv: env, observer: auth.observer, conversations: conversationsFor({ store, cliVersion, log }), accounts });
  auth.attach(engine);
  const logins = new LoginManager({ claudePath, baseEnv: env, dataDir: config.dataDir, auth, log, timeoutMs: config.loginTimeoutMs });
  let ready = false;
  let draining = false;
  const streams = new OpenStreams();
  const admin = new Admin({ store, log, adminKeys: keyInfo.keys, usageRetentionDays: config.usageRetentionDays });
  const app = createApp({ config, engine, store, log, keys: keyInfo.keys, isReady: () => ready, isDraining: () => draining, cluster, streams, admin, auth: { auth, logins, keys: keyInfo.keys, log, accounts: new AccountAdmin(accounts, engine, log) } });
  await engine.init();
  for (const m of opts.prewarm ?? []) engine.prewarm(m);

  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  await cluster?.attach({ url, engine, auth, accounts, store, logins });
  ready = true;
  log.info({ url, cliVersion, maxConcurrency: config.maxConcurrency, models: engine.catalog?.list().length }, 'gateway listening');
  if (keyInfo.generatedFile) {
    log.info({ file: keyInfo.generatedFile }, keyInfo.created ? 'generated an API key' : 'using the stored API key');
  }
  const login = loginAdvice(auth, url);
  if (login) log.warn({ loginUrl: `${url}/auth`, loginCommand: 'claude-code-gateway login' }, login);

  let stopping: Promise<void> | undefined;
  return {
    url,
    config,
    engine,
    keys: keyInfo.keys,
    cliVersion,
    auth,
    accounts,
    logins,
    admin,
    cluster,
    stop: () =>
      (stopping ??= (async () => {
        // Readiness goes 503 at once; with several replicas the listener keeps serving for the drain
        // delay, so the balancer's health checks notice before it closes (then the rest of the drain).
        draining = true;
        const drainStart = Date.now();
        await cluster?.leave();
        const delay = Math.min(config.drainDelayMs ?? (cluster ? 2000 : 0), config.drainTimeoutMs);
        if (delay) await new Promise((r) => setTimeout(r, delay));
        ready = false;
        streams.shuttingDown = true;
        const deadline = drainStart + config.drainTimeoutMs;
        // At the deadline every stream still open ends with its dialect's error event (before the
        // engine stops the processes, whose turns would otherwise end with a less telling error).
        const cut = () => {
          const n = streams.cutAll();
          if (n) log.warn({ streams: n, drainTimeoutMs: config.drainTimeoutMs }, 'shutdown: streams still open after the drain time were ended with an error event');
        };
        const cutTimer = setTimeout(cut, Math.max(0, deadline - Date.now()));
        await logins.close();
        auth.close();
        const closed = new Promise<void>((r) => server.close(() => r()));
        await engine.drain(Math.max(0, deadline - Date.now()));
        // Streams whose turns have ended are writing their last events: they may until the deadline.
        let wait: NodeJS.Timeout | undefined;
        await Promise.race([streams.idle(), new Promise((r) => (wait = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
        clearTimeout(wait);
        clearTimeout(cutTimer);
        cut();
        await admin.flush();
        await cluster?.close();
        await store.close();
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await closed;
      })()),
  };
}

/** What to tell an operator at start-up when Claude Code has no credentials (undefined when it has). */
export function loginAdvice(auth: Pick<AuthService, 'status'>, url: string): string | undefined {
  const s = auth.status();
  if (s.authenticated) return undefined;
  const why = s.method ? `its credential (${s.source}) was refused or has expired` : 'no credential was found';
  return `Claude is not logged in (${why}): requests will fail until it is. Log in in a browser at ${url}/auth (with the gateway's API key), or run \`claude-code-gateway login\` on this machine.`;
}

const DATA_DIR_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST']);

/** Creates the data dir and proves it writable, or fails start-up with what to do about it. */
export function ensureDataDir(dir: string): void {
  onDataDir(dir, () => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = path.join(dir, `.write-test-${process.pid}`);
    try {
      fs.writeFileSync(probe, '');
    } catch (e) {
      // The probe stands for the folder: the message names the data dir, not the probe file.
      (e as NodeJS.ErrnoException).path = dir;
      throw e;
    }
    fs.rmSync(probe, { force: true });
  });
}

/** Runs fn; a file-system refusal under the data dir becomes a ConfigError that says what to fix. */
export function onDataDir<T>(dir: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code && DATA_DIR_ERRORS.has(err.code)) throw new ConfigError(dataDirMessage(dir, err.code, err.path));
    throw e;
  }
}

/** The first part of dir's path that exists and is not a folder, if any. */
function fileInPath(dir: string): string | undefined {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    try {
      if (!fs.statSync(p).isDirectory()) return p;
    } catch {
      /* not there yet: look further up */
    }
    if (path.dirname(p) === p) return undefined;
  }
}

/** What an operator reads when the data dir cannot be used: the folder, the user, and the fix. */
export function dataDirMessage(dir: string, code: string, failedPath?: string, user = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }): string {
  const who = `uid ${user.uid}, gid ${user.gid}`;
  const other = `or set GATEWAY_DATA_DIR to another folder that uid ${user.uid} can write`;
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    const file = fileInPath(dir) ?? failedPath ?? dir;
    return `cannot use the data dir ${dir}: ${file} is a file, not a folder (${code}). Remove or move the file, ${other}.`;
  }
  if (code === 'EROFS') {
    return `cannot use the data dir ${dir}: it is on a read-only file system (EROFS). Mount it read-write, ${other}.`;
  }
  const where = failedPath && path.resolve(failedPath) !== path.resolve(dir) ? `${failedPath} (in the data dir ${dir})` : `the data dir ${dir}`;
  return (
    `cannot write ${where}: permission denied (${code}). The gateway runs as ${who} and needs to read and write that folder. ` +
    `Fix: give the folder to that user: \`sudo chown -R ${user.uid}:${user.gid} ${dir}\` (for a mounted folder, run it on the host's folder), ` +
    `or \`chmod u+rwx ${dir}\` when the user already owns it; ${other}.`
  );
}
