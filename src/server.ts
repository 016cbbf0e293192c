// Wires configuration, engine and HTTP server together; start() listens, stop() drains.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { AuthService } from './auth/auth-service.js';
import { LoginManager } from './auth/login-manager.js';
import { resolveApiKeys } from './config/api-key.js';
import { ConfigError, isLoopbackHost, type GatewayConfig } from './config/config.js';
import { allowlistedEnv } from './engine/child-env.js';
import { bundledClaudePath, claudeVersion } from './engine/claude-binary.js';
import { openStore } from './conversations/stores/open-store.js';
import { Engine } from './engine/engine.js';
import { createApp } from './http/app.js';
import { createLogger, type Logger } from './log.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** The environment the CLI's credentials and proxies come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Models to keep a warm process for from the start. */
  prewarm?: string[];
}

export interface Gateway {
  url: string;
  config: GatewayConfig;
  engine: Engine;
  keys: string[];
  cliVersion: string;
  /** The Claude credentials in use, and their status. */
  auth: AuthService;
  logins: LoginManager;
  stop(): Promise<void>;
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config } = opts;
  const env = opts.env ?? process.env;
  const log = opts.log ?? createLogger(config.logLevel);

  if (!isLoopbackHost(config.host) && !config.apiKeys.length) {
    throw new ConfigError(`Refusing to listen on ${config.host} without GATEWAY_API_KEY: a generated key is only allowed on loopback.`);
  }
  const keyInfo = resolveApiKeys(config.apiKeys, config.dataDir);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const claudePath = config.claudePath ?? bundledClaudePath();
  if (!claudePath) throw new ConfigError('No Claude Code CLI found: the Agent SDK ships none for this platform. Set GATEWAY_CLAUDE_PATH.');
  const cliVersion = await claudeVersion(claudePath, allowlistedEnv(env));

  // Credentials are chosen before the first CLI process starts; real turns keep their status truthful.
  const auth = new AuthService({ dataDir: config.dataDir, env, log, cliVersion });
  const store = openStore({ dataDir: config.dataDir, redisUrl: config.redisUrl, retentionMs: config.conversationRetentionDays * 86_400_000, log });
  const engine = new Engine({ config, log, claudePath, baseEnv: env, observer: auth.observer, store, cliVersion });
  auth.attach(engine);
  const logins = new LoginManager({ claudePath, baseEnv: env, dataDir: config.dataDir, auth, log, timeoutMs: config.loginTimeoutMs });
  let ready = false;
  const app = createApp({ config, engine, store, log, keys: keyInfo.keys, isReady: () => ready, auth: { auth, logins, keys: keyInfo.keys, log } });
  await engine.init();
  for (const m of opts.prewarm ?? []) engine.prewarm(m);

  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once('error', reject);
  });
  ready = true;
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url, cliVersion, maxConcurrency: config.maxConcurrency, models: engine.catalog?.list().length }, 'gateway listening');
  if (keyInfo.generatedFile) {
    log.info({ file: keyInfo.generatedFile }, keyInfo.created ? 'generated an API key' : 'using the stored API key');
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    config,
    engine,
    keys: keyInfo.keys,
    cliVersion,
    auth,
    logins,
    stop: () =>
      (stopping ??= (async () => {
        ready = false;
        await logins.close();
        auth.close();
        const closed = new Promise<void>((r) => server.close(() => r()));
        await engine.drain(config.drainTimeoutMs);
        await store.close();
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await closed;
      })()),
  };
}
