// Gateway configuration: environment variables, optionally a YAML file (GATEWAY_CONFIG) for what does
// not fit in env (model aliases, limits). Env wins over the file; the file wins over defaults.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const intish = z.coerce.number().int().nonnegative();
const boolish = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no'])]).transform((v) => v === true || v === '1' || v === 'true' || v === 'yes');

/** Memory one idle-or-busy CLI process takes (measured ~200 MB RSS), with headroom. */
const MB_PER_CLI = 400;

export function defaultConcurrency(): number {
  const byMemory = Math.floor(os.totalmem() / (MB_PER_CLI * 1024 * 1024));
  return Math.max(2, Math.min(os.cpus().length * 4, byMemory));
}

/**
 * Room for every concurrency slot's process to wait idle (~250 MB each), so a burst's finished
 * one-shot processes can all be rewound for the next burst instead of some being stopped; at least a
 * sixteenth of the memory, at most a quarter, between 512 MB and 4 GB (2 GB on 24 GB with 2 cores).
 */
export function defaultIdleMemoryMb(): number {
  const total = os.totalmem() / 1024 / 1024;
  return Math.round(Math.min(4096, total / 4, Math.max(512, total / 16, defaultConcurrency() * 256)));
}

const schema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: intish.max(65535).default(4000),
  apiKeys: z.array(z.string().min(8, 'API keys must be at least 8 characters')).default([]),
  /** A key that may read /metrics and nothing else (a Prometheus scraper's). */
  metricsKey: z.string().min(16, 'the metrics key must be at least 16 characters').optional(),
  dataDir: z.string().min(1).default(path.join(os.homedir(), '.claude-code-gateway')),
  claudePath: z.string().min(1).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** CLI processes running a turn at once; more requests wait in the queue. */
  maxConcurrency: intish.min(1).default(defaultConcurrency()),
  /** Requests allowed to wait for a slot; beyond that 429. */
  maxQueue: intish.default(64),
  /** How long a request may wait in the queue before it is turned away with 429. */
  queueTimeoutMs: intish.default(60_000),
  bodyLimitBytes: intish.min(1024).default(20 * 1024 * 1024),
  /** Deepest nesting of arrays and objects a JSON request body may have (400 beyond); also caps tool and output schemas. */
  maxJsonDepth: intish.min(8).max(512).default(64),
  /** Retries the CLI itself makes on 429/5xx/connection errors (CLAUDE_CODE_MAX_RETRIES). */
  cliMaxRetries: intish.max(10).default(2),
  /** A CLI retry that would wait longer than this is cut short: the client gets 429/503 with Retry-After. */
  maxRetryWaitMs: intish.default(5_000),
  /** Retry-After when the upstream gave no delay the CLI reported. */
  fallbackRetryAfterSec: intish.min(1).default(10),
  /** SSE comment keepalive while the model is silent; also how long a stream may hold back its headers. */
  keepaliveMs: intish.min(100).default(10_000),
  /** Hard cap on one turn. */
  turnTimeoutMs: intish.min(1000).default(10 * 60_000),
  /**
   * On SIGTERM, how long in-flight turns may finish; then open streams end with an error event and
   * the processes are stopped. 8 s fits the 10 s a container runtime waits before SIGKILL.
   */
  drainTimeoutMs: intish.default(8_000),
  /**
   * Proxies trusted to name the client in X-Forwarded-For / Forwarded: addresses or CIDR ranges
   * (or "loopback", "private", "uniquelocal"), or one number, the count of proxy hops. Empty: the
   * peer address is the client (the headers are ignored).
   */
  trustProxy: z.array(z.string().min(1)).default([]),
  /** Failed authentications an address may make before it is refused (429); 0 turns the throttle off. */
  authFreeFailures: intish.default(5),
  /** The longest an address is refused for; the refusal doubles from 1 s with each further failure. */
  authMaxBlockSec: intish.min(1).default(300),
  /** Idle CLI processes kept started, per recently used turn shape, so a request skips the CLI's start-up. */
  warmPerProfile: intish.max(8).default(1),
  /** Spares a shape may grow to when new conversations of it arrive in bursts (within the idle memory budget). */
  warmMaxPerProfile: intish.max(32).default(8),
  /** The niceness a starting spare has while turns run, so it never starves them (0: no change); normal in idle gaps. */
  spareNice: intish.max(19).default(10),
  /** How many distinct turn shapes keep warm processes. 0 turns the warm pool off. */
  warmProfiles: intish.max(16).default(2),
  /** A warm process unused for this long is stopped. */
  warmIdleMs: intish.min(1000).default(5 * 60_000),
  /**
   * Reuse a CLI process for the next turn of the same shape after a /clear, instead of starting a new
   * one per turn: saves the CLI's start-up CPU, which is what limits latency and throughput (see the
   * README's figures). Off by default since conversations: the CLI's note that /clear was run would
   * open the next conversation, and a conversation must hold only its own turns. When on, a cleared
   * process takes new conversations and finished turns are not kept live (they resume instead).
   * Turns with client tools, cut short or failed are never reused.
   */
  reuseProcesses: boolish.default(false),
  /**
   * A new conversation may take the process of a finished one-shot conversation (one that never had
   * a second turn), rewound to before its first message: no CLI start, and the API receives exactly
   * what a freshly started process sends. The rewound conversation's next turn, if it ever comes,
   * resumes from the store. Off: every new conversation takes a spare or starts a process.
   */
  rewindOneShots: boolish.default(true),
  /** A reused or rewound process is retired after this many turns. */
  maxTurnsPerProcess: intish.min(1).default(100),
  /** How long a turn stays suspended in its live process waiting for the client's tool results; after
   * that the process is stopped and a late result is answered by rebuilding the conversation. */
  toolResultTimeoutMs: intish.min(1000).default(120_000),
  /** Suspended tool turns kept at once (each holds a CLI process, not a concurrency slot); beyond it the oldest is stopped. */
  maxParkedTurns: intish.default(defaultConcurrency()),
  /** Hard cap on one interactive login (`claude setup-token` in a PTY); its process is killed after it. */
  loginTimeoutMs: intish.min(1000).default(10 * 60_000),
  /** Extra names for models: alias -> a CLI model alias or id. */
  modelAliases: z.record(z.string(), z.string()).default({}),
  /** Claude Code built-in tools the model may use (e.g. ["WebSearch"]); none unless an operator says so. */
  builtinTools: z.array(z.string()).default([]),
  /** Fetch http(s) image URLs for the model (off: server-side request forgery). */
  fetchRemoteImages: boolish.default(false),
  remoteImageMaxBytes: intish.default(10 * 1024 * 1024),
  remoteImageTimeoutMs: intish.default(10_000),
  /**
   * The empty working directory all CLI processes share. The CLI names it in the prompt, so it must
   * be the same on every replica for a conversation to keep its prompt cache wherever it goes, and
   * its path tells the model nothing of the gateway.
   */
  cliWorkDir: z.string().min(1).default(path.join(os.tmpdir(), `workspace-${process.getuid?.() ?? 0}`)),
  /** Redis for conversations and stored responses shared by several replicas (else files in the data dir). */
  redisUrl: z.string().min(1).optional(),
  /**
   * With redisUrl (several replicas): the operator's secret the cluster keys derive from (cluster/keys.ts):
   * login secrets at rest in the shared store, the signed hop between replicas, /auth session cookies.
   */
  secretKey: z.string().min(32, 'GATEWAY_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
  /** The base URL the other replicas reach this one at (default: http://<listening address>:<port>). */
  advertiseUrl: z.string().url('GATEWAY_ADVERTISE_URL must be a URL such as http://10.0.0.5:4000').optional(),
  /**
   * On SIGTERM with several replicas, how long /health answers 503 draining while the listener still
   * serves, so the balancer's health checks notice before it closes; part of GATEWAY_DRAIN_TIMEOUT_MS.
   * Default: 2000 with redisUrl, 0 without.
   */
  drainDelayMs: intish.optional(),
  /** How long a replica waits to connect to the owner of a live conversation before it resumes the turn itself. */
  forwardConnectTimeoutMs: intish.min(10).default(500),
  /**
   * Forward a turn to the replica holding its conversation's live process (cluster/affinity.ts). Off:
   * every replica serves the turns that land on it, resuming conversations another replica served.
   */
  forwardTurns: boolish.default(true),
  /** How long conversations (transcripts, points) and stored responses are kept after their last use. */
  conversationRetentionDays: z.coerce.number().positive().default(30),
  /** How long per-day usage (/admin/usage, key totals) is kept. */
  usageRetentionDays: intish.min(1).max(3660).default(90),
  /** How long a finished conversation's CLI process stays live for its next turn (0: never). */
  conversationIdleMs: intish.default(5 * 60_000),
  /** Memory all idle CLI processes (live conversations and warm ones) may hold together, in MB. */
  idleMemoryMb: intish.min(0).default(defaultIdleMemoryMb()),
  /** Set for tests and CI: env passed to the CLI in addition to the allowlist. */
  extraCliEnv: z.record(z.string(), z.string()).default({}),
});

export type GatewayConfig = z.infer<typeof schema>;
export type ConfigInput = z.input<typeof schema>;

const ENV_NAMES: Record<string, keyof GatewayConfig> = {
  GATEWAY_HOST: 'host',
  GATEWAY_PORT: 'port',
  GATEWAY_API_KEY: 'apiKeys',
  GATEWAY_METRICS_KEY: 'metricsKey',
  GATEWAY_DATA_DIR: 'dataDir',
  GATEWAY_CLAUDE_PATH: 'claudePath',
  GATEWAY_LOG_LEVEL: 'logLevel',
  GATEWAY_MAX_CONCURRENCY: 'maxConcurrency',
  GATEWAY_MAX_QUEUE: 'maxQueue',
  GATEWAY_QUEUE_TIMEOUT_MS: 'queueTimeoutMs',
  GATEWAY_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  GATEWAY_MAX_JSON_DEPTH: 'maxJsonDepth',
  GATEWAY_CLI_MAX_RETRIES: 'cliMaxRetries',
  GATEWAY_MAX_RETRY_WAIT_MS: 'maxRetryWaitMs',
  GATEWAY_FALLBACK_RETRY_AFTER_SEC: 'fallbackRetryAfterSec',
  GATEWAY_KEEPALIVE_MS: 'keepaliveMs',
  GATEWAY_TURN_TIMEOUT_MS: 'turnTimeoutMs',
  GATEWAY_DRAIN_TIMEOUT_MS: 'drainTimeoutMs',
  GATEWAY_TRUST_PROXY: 'trustProxy',
  GATEWAY_AUTH_FREE_FAILURES: 'authFreeFailures',
  GATEWAY_AUTH_MAX_BLOCK_SEC: 'authMaxBlockSec',
  GATEWAY_WARM_PER_PROFILE: 'warmPerProfile',
  GATEWAY_WARM_MAX_PER_PROFILE: 'warmMaxPerProfile',
  GATEWAY_SPARE_NICE: 'spareNice',
  GATEWAY_REWIND_ONE_SHOTS: 'rewindOneShots',
  GATEWAY_WARM_PROFILES: 'warmProfiles',
  GATEWAY_WARM_IDLE_MS: 'warmIdleMs',
  GATEWAY_REUSE_PROCESSES: 'reuseProcesses',
  GATEWAY_MAX_TURNS_PER_PROCESS: 'maxTurnsPerProcess',
  GATEWAY_BUILTIN_TOOLS: 'builtinTools',
  GATEWAY_LOGIN_TIMEOUT_MS: 'loginTimeoutMs',
  GATEWAY_TOOL_RESULT_TIMEOUT_MS: 'toolResultTimeoutMs',
  GATEWAY_MAX_PARKED_TURNS: 'maxParkedTurns',
  GATEWAY_FETCH_REMOTE_IMAGES: 'fetchRemoteImages',
  GATEWAY_CLI_WORKDIR: 'cliWorkDir',
  GATEWAY_REDIS_URL: 'redisUrl',
  GATEWAY_CONVERSATION_RETENTION_DAYS: 'conversationRetentionDays',
  GATEWAY_CONVERSATION_IDLE_MS: 'conversationIdleMs',
  GATEWAY_USAGE_RETENTION_DAYS: 'usageRetentionDays',
  GATEWAY_IDLE_MEMORY_MB: 'idleMemoryMb',
  GATEWAY_SECRET_KEY: 'secretKey',
  GATEWAY_ADVERTISE_URL: 'advertiseUrl',
  GATEWAY_DRAIN_DELAY_MS: 'drainDelayMs',
  GATEWAY_FORWARD_CONNECT_TIMEOUT_MS: 'forwardConnectTimeoutMs',
  GATEWAY_FORWARD_TURNS: 'forwardTurns',
};
const LIST_KEYS = new Set<keyof GatewayConfig>(['apiKeys', 'builtinTools', 'trustProxy']);

export class ConfigError extends Error {}

function readFileConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`GATEWAY_CONFIG: cannot read ${file}: ${(e as Error).message}`);
  }
  const parsed = parseYaml(text) ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`GATEWAY_CONFIG: ${file} must hold a mapping`);
  return parsed as Record<string, unknown>;
}

/** Build the configuration from env (and the YAML file it names), then explicit overrides (tests). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput = {}): GatewayConfig {
  const merged: Record<string, unknown> = env.GATEWAY_CONFIG ? readFileConfig(env.GATEWAY_CONFIG) : {};
  for (const [name, key] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    merged[key] = LIST_KEYS.has(key) ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
  }
  if (typeof merged.apiKeys === 'string') merged.apiKeys = [merged.apiKeys];
  const result = schema.safeParse({ ...merged, ...overrides });
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  if (result.data.redisUrl && !result.data.secretKey) {
    throw new ConfigError(
      'GATEWAY_SECRET_KEY is required with GATEWAY_REDIS_URL: it encrypts the Claude login in the shared store and signs the hop between replicas. Set the same value (32+ characters, e.g. `openssl rand -hex 32`) on every replica.',
    );
  }
  return result.data;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
