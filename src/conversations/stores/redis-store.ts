// The shared store, for several replicas behind one load balancer: a transcript is a Redis list of
// JSON lines (with a companion set of the uuids already in it), records are plain keys with a TTL.
// Built to fail fast when Redis is away (no offline queue, one retry, a
// command timeout), so a FallbackStore in front of it can serve the call from disk instead of waiting.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { sessionKey, type ConversationStore, type CounterRows, type SessionKey, type SessionStoreEntry } from './store.js';

export interface RedisStoreOptions {
  /** How long a transcript lives after its last append; the default TTL of records. */
  retentionMs: number;
  /** Prepended to every key, so one Redis can serve several gateways. Default 'ccg:'. */
  prefix?: string;
  log?: Logger;
}

const COMMAND_TIMEOUT_MS = 2_000;
const WARN_EVERY_MS = 30_000;

// Dedupe and push in one script: two replicas mirroring the same entry (a retry landing after a
// timeout, an import replay) cannot interleave between the SADD and the RPUSH.
// KEYS: list, uuid set. ARGV: retentionMs, then (uuid or '', json) pairs. Returns lines pushed.
const APPEND_LUA = `
local pushed = 0
for i = 2, #ARGV, 2 do
  local uuid = ARGV[i]
  if uuid == '' or redis.call('SADD', KEYS[2], uuid) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    pushed = pushed + 1
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return pushed
`;

// Counters: one hash per table, a field per row and counter ("row|field"), incremented together
// so a row's counters move at once; the table's expiry restarts with each change.
// KEYS: hash. ARGV: ttlMs, row, then (field, amount) pairs. Returns (field, value) pairs.
const ADD_COUNTERS_LUA = `
local out = {}
for i = 3, #ARGV, 2 do
  local v = redis.call('HINCRBYFLOAT', KEYS[1], ARGV[2] .. '|' .. ARGV[i], ARGV[i + 1])
  out[#out + 1] = ARGV[i]
  out[#out + 1] = v
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return out
`;

type Scripted = Redis & {
  ccgAppend(list: string, uuids: string, retentionMs: number, ...pairs: string[]): Promise<number>;
  ccgAddCounters(hash: string, ttlMs: number, row: string, ...pairs: (string | number)[]): Promise<string[]>;
};

/** The URL as it may appear in a log line: no password, no user name. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username) u.username = '***';
    return u.toString();
  } catch {
    return '[unparseable redis url]';
  }
}

export class RedisStore implements ConversationStore {
  readonly kind = 'redis';
  private readonly redis: Scripted;
  private readonly prefix: string;
  private readonly retentionMs: number;
  private readonly log?: Logger;
  /** Settles when the first connection attempt has succeeded or failed. Commands wait for it
   * (bounded) so the first requests after start-up are not refused merely because the handshake is
   * still under way; when Redis is down from the start they fall back after one refused attempt. */
  private readonly firstAttempt: Promise<void>;
  private attempted = false;
  private lastWarn = 0;

  constructor(url: string, opts: RedisStoreOptions) {
    this.prefix = opts.prefix ?? 'ccg:';
    this.retentionMs = Math.max(1, Math.ceil(opts.retentionMs));
    this.log = opts.log;
    const redis = new Redis(url, {
      // Outage behaviour: refuse at once rather than queue, so the caller falls back immediately.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: COMMAND_TIMEOUT_MS * 2,
      lazyConnect: false,
      // close() only disconnects when QUIT could not be sent, i.e. the socket is already dead; the
      // 2 s default would hold a timer (and process exit) for a stream that will never close.
      disconnectTimeout: 100,
      // Keep trying for as long as the process lives: 200 ms, doubling, then every 5 s at most.
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    });
    redis.defineCommand('ccgAppend', { numberOfKeys: 2, lua: APPEND_LUA });
    redis.defineCommand('ccgAddCounters', { numberOfKeys: 1, lua: ADD_COUNTERS_LUA });
    this.redis = redis as Scripted;
    const where = redactRedisUrl(url);
    redis.on('error', (err: Error) => {
      // ioredis emits this on every failed reconnect; one line per 30 s says enough.
      const now = Date.now();
      if (now - this.lastWarn < WARN_EVERY_MS) return;
      this.lastWarn = now;
      this.log?.warn({ redis: where, err: err.message }, 'redis unavailable');
    });
    redis.on('ready', () => {
      if (this.lastWarn) this.log?.info({ redis: where }, 'redis available again');
      this.lastWarn = 0;
    });
    this.firstAttempt = new Promise((resolve) => {
      const done = () => {
        this.attempted = true;
        redis.off('ready', done).off('error', done).off('end', done);
        resolve();
      };
      redis.on('ready', done).on('error', done).on('end', done);
    });
  }

  private sKey(key: SessionKey): string {
    return `${this.prefix}s:${sessionKey(key)}`;
  }
  private uKey(key: SessionKey): string {
    return `${this.prefix}u:${sessionKey(key)}`;
  }
  private rKey(ns: string, key: string): string {
    return `${this.prefix}r:${ns}:${key}`;
  }

  /** Until the first connection attempt is over, wait for it (at most one command timeout).
   * Afterwards never wait: during an outage ioredis refuses at once and the caller falls back. */
  private async ready(): Promise<Scripted> {
    if (!this.attempted) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.firstAttempt, new Promise((r) => (timer = setTimeout(r, COMMAND_TIMEOUT_MS)))]);
      clearTimeout(timer);
    }
    return this.redis;
  }

  async ping(): Promise<boolean> {
    try {
      return (await (await this.ready()).ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    if (!entries.length) return;
    const pairs: string[] = [];
    for (const e of entries) {
      const uuid = (e as { uuid?: unknown }).uuid;
      pairs.push(typeof uuid === 'string' ? uuid : '', JSON.stringify(e));
    }
    await (await this.ready()).ccgAppend(this.sKey(key), this.uKey(key), this.retentionMs, ...pairs);
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const lines = await (await this.ready()).lrange(this.sKey(key), 0, -1);
    // Redis has no empty lists: no elements means never written (or deleted, or expired).
    if (!lines.length) return null;
    const out: SessionStoreEntry[] = [];
    for (const line of lines) {
      try {
        out.push(JSON.parse(line));
      } catch {
        // Only this gateway writes here, so this is foreign data; skip it rather than fail a resume.
      }
    }
    return out;
  }

  async delete(key: SessionKey): Promise<void> {
    await (await this.ready()).del(this.sKey(key), this.uKey(key));
  }

  async getRecord<T>(ns: string, key: string): Promise<T | undefined> {
    const text = await (await this.ready()).get(this.rKey(ns, key));
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  async putRecord(ns: string, key: string, value: unknown, ttlMs = this.retentionMs): Promise<void> {
    const px = Math.max(1, Math.ceil(ttlMs));
    await (await this.ready()).set(this.rKey(ns, key), JSON.stringify(value ?? null), 'PX', px);
  }

  async deleteRecord(ns: string, key: string): Promise<void> {
    await (await this.ready()).del(this.rKey(ns, key));
  }

  private tKey(table: string): string {
    return `${this.prefix}t:${table}`;
  }
  private cKey(table: string): string {
    return `${this.prefix}c:${table}`;
  }

  async getRow<T>(table: string, row: string): Promise<T | undefined> {
    const text = await (await this.ready()).hget(this.tKey(table), row);
    return text === null ? undefined : (JSON.parse(text) as T);
  }

  async putRow(table: string, row: string, value: unknown): Promise<void> {
    await (await this.ready()).hset(this.tKey(table), row, JSON.stringify(value ?? null));
  }

  async readRows<T>(table: string): Promise<Record<string, T>> {
    const all = await (await this.ready()).hgetall(this.tKey(table));
    const out: Record<string, T> = {};
    for (const [row, text] of Object.entries(all)) out[row] = JSON.parse(text) as T;
    return out;
  }

  async addCounters(table: string, row: string, add: Record<string, number>, ttlMs: number): Promise<Record<string, number>> {
    const pairs = Object.entries(add).flatMap(([field, n]) => [field, n]);
    const got = await (await this.ready()).ccgAddCounters(this.cKey(table), Math.max(1, Math.ceil(ttlMs)), row, ...pairs);
    const out: Record<string, number> = {};
    for (let i = 0; i < got.length; i += 2) out[got[i]] = Number(got[i + 1]);
    return out;
  }

  async readCounters(table: string): Promise<CounterRows> {
    const all = await (await this.ready()).hgetall(this.cKey(table));
    const out: CounterRows = {};
    for (const [name, value] of Object.entries(all)) {
      // Split at the last '|': field names are ours, a row (a model name) might hold one.
      const at = name.lastIndexOf('|');
      (out[name.slice(0, at)] ??= {})[name.slice(at + 1)] = Number(value);
    }
    return out;
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      // Not connected (an outage): quit cannot be sent; stop the reconnect loop instead.
      this.redis.disconnect();
    }
  }
}
