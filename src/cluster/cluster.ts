// Several replicas as one gateway (with GATEWAY_REDIS_URL): the wiring of everything they share beyond
// conversations. One login for all (shared-docs.ts, encrypted), a registry of live replicas
// (registry.ts), conversation affinity by forwarding a turn to the replica holding its live process
// (affinity.ts, over the signed hop of hop.ts), the interactive /auth login reached wherever it runs,
// and shared plan limits (shared-plan.ts). Without Redis none of this exists and the gateway is as before.
import crypto from 'node:crypto';
import os from 'node:os';
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Accounts } from '../accounts/accounts.js';
import type { AuthService } from '../auth/auth-service.js';
import type { LoginManager } from '../auth/login-manager.js';
import { ConfigError, type GatewayConfig } from '../config/config.js';
import type { ConversationStore } from '../conversations/stores/store.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../log.js';
import { Affinity } from './affinity.js';
import { forward, hopOf, internalEndpoint } from './hop.js';
import { deriveKeys, type ClusterKeys } from './keys.js';
import { CLUSTER_PREFIX, clusterRedis, readyWithin } from './redis.js';
import { Registry } from './registry.js';
import { SharedDocs } from './shared-docs.js';
import { SharedPlanState } from './shared-plan.js';
import { watchPool } from './pool-sync.js';

const LOGIN_KEY = `${CLUSTER_PREFIX}login`;

/** The shared login only (for the `login`, `logout`, `status` and `accounts` commands). */
export async function openSharedLogin(config: GatewayConfig, log: Logger): Promise<{ docs: SharedDocs; close(): Promise<void> } | undefined> {
  if (!config.redisUrl) return undefined;
  const redis = clusterRedis(config.redisUrl, log);
  if (!(await readyWithin(redis, 5_000))) {
    redis.disconnect();
    throw new ConfigError('Redis (GATEWAY_REDIS_URL) is not reachable: with several replicas the Claude login is kept there. Start Redis, or unset GATEWAY_REDIS_URL for a single gateway.');
  }
  const docs = new SharedDocs(redis, undefined, deriveKeys(config.secretKey!).atRest, log);
  docs.doc('credentials');
  docs.doc('accounts');
  await docs.start();
  return {
    docs,
    async close() {
      await docs.flush();
      docs.close();
      redis.disconnect();
    },
  };
}

export class Cluster {
  readonly id = `${os.hostname().slice(0, 32)}-${crypto.randomBytes(4).toString('hex')}`;
  readonly keys: ClusterKeys;
  readonly docs: SharedDocs;
  private readonly redis: Redis;
  private readonly sub: Redis;
  registry: Registry | undefined;
  affinity: Affinity | undefined;
  private draining = false;
  private logins: LoginManager | undefined;

  constructor(
    private readonly config: GatewayConfig,
    private readonly log: Logger,
  ) {
    this.keys = deriveKeys(config.secretKey!);
    this.redis = clusterRedis(config.redisUrl!, log);
    this.sub = clusterRedis(config.redisUrl!, log, true);
    this.docs = new SharedDocs(this.redis, this.sub, this.keys.atRest, log);
    this.docs.doc('credentials');
    this.docs.doc('accounts');
  }

  /** Load the shared login before the gateway reads its credentials. */
  async load(): Promise<void> {
    if (!(await readyWithin(this.redis, 10_000))) this.log.warn('cluster: Redis is not reachable at start-up: the shared login is loaded once it is');
    await this.docs.start().catch((e: Error) => this.log.warn({ err: e.message }, 'cluster: could not read the shared login yet'));
  }

  /** After the listener is up: join the registry, forward turns to their owners, follow login and limit changes. */
  async attach(deps: { url: string; engine: Engine; auth: AuthService; accounts: Accounts; store: ConversationStore; logins: LoginManager }): Promise<void> {
    const url = this.config.advertiseUrl?.replace(/\/+$/, '') ?? advertiseDefault(deps.url, this.config.port);
    this.registry = new Registry(this.redis, { id: this.id, url }, this.log);
    await this.registry.start();
    deps.engine.conversations.replica = this.registry.self;
    this.affinity = new Affinity({ engine: deps.engine, store: deps.store, registry: this.registry, hopKey: this.keys.hop, connectTimeoutMs: this.config.forwardConnectTimeoutMs, isDraining: () => this.draining, log: this.log });
    if (this.config.forwardTurns) deps.engine.beforeTurn = (req, ctx) => this.affinity!.beforeTurn(req, ctx);
    this.docs.onChange('credentials', () => deps.auth.refresh());
    watchPool(this.docs, deps.accounts, deps.engine, this.log);
    await new SharedPlanState(this.redis, this.sub, deps.accounts, this.log).start();
    this.logins = deps.logins;
    this.log.info({ replica: this.id, advertise: url }, 'cluster: joined');
  }

  /** /_internal/*: signed requests from other replicas, answered by this gateway's routes. */
  internal(dispatch: (req: Request, env: unknown) => Response | Promise<Response>): MiddlewareHandler {
    return internalEndpoint({ key: this.keys.hop, bodyLimitBytes: this.config.bodyLimitBytes, log: this.log, dispatch });
  }

  /**
   * The interactive login (`claude setup-token` in a PTY) runs on one replica: its next steps (the
   * view, the code, cancel) are forwarded there from wherever the balancer sends them.
   */
  loginAffinity(): MiddlewareHandler {
    return async (c, next) => {
      const path = c.req.path;
      const logins = this.logins;
      if (!logins || !this.registry || hopOf(c)) return next();
      if (path === '/auth/login/start' && c.req.method === 'POST') {
        await next();
        if (logins.view()?.busy) await this.redis.set(LOGIN_KEY, this.id, 'PX', this.config.loginTimeoutMs).catch(() => {});
        return;
      }
      const step = (path === '/auth/login' && c.req.method === 'GET') || (c.req.method === 'POST' && (path === '/auth/login/code' || path === '/auth/login/cancel'));
      if (!step || logins.view()?.busy) return next();
      const holder = await this.redis.get(LOGIN_KEY).catch(() => null);
      const peer = holder && holder !== this.id ? this.registry.peer(holder) : undefined;
      if (!peer) return next();
      const body = new Uint8Array(await c.req.arrayBuffer());
      const url = new URL(c.req.url);
      const out = await forward(peer, this.id, this.keys.hop, { method: c.req.method, path: url.pathname + url.search, headers: c.req.raw.headers, body, signal: c.req.raw.signal }, this.config.forwardConnectTimeoutMs);
      if (out.kind === 'answered') return out.response;
      return next();
    };
  }

  /** For /stats: this replica, its live peers, and what became of turns whose process lives elsewhere. */
  stats() {
    return { replica: this.id, peers: this.registry?.list().map((p) => p.id) ?? [], hops: { ...(this.affinity?.counts ?? {}) } };
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** A drain starts: no more forwarded turns are taken, and peers stop sending them. */
  async leave(): Promise<void> {
    this.draining = true;
    await this.registry?.leave();
  }

  async close(): Promise<void> {
    this.registry?.close();
    this.docs.close();
    await this.docs.flush();
    // disconnect, not quit: with Redis away a quit would wait in the subscriber's offline queue forever.
    this.redis.disconnect();
    this.sub.disconnect();
  }
}

/** The listening URL, or for a wildcard address this machine's first external IPv4 address. */
function advertiseDefault(listening: string, port: number): string {
  const u = new URL(listening);
  if (!['0.0.0.0', '[::]'].includes(u.hostname)) return listening;
  const ip = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  return `http://${ip ?? os.hostname()}:${u.port || port}`;
}

export type { Context };
