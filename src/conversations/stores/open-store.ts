// Which store the gateway uses: the embedded one alone, or Redis (shared by replicas) with the
// embedded one (LMDB, lmdb-store.ts) behind it, so a Redis outage degrades to per-replica storage instead of failing.
import path from 'node:path';
import type { Logger } from 'pino';
import { FallbackStore } from './fallback-store.js';
import { LmdbStore } from './lmdb-store.js';
import { RedisStore } from './redis-store.js';
import type { ConversationStore } from './store.js';

export interface OpenStoreOptions {
  dataDir: string;
  redisUrl?: string;
  retentionMs: number;
  log: Logger;
}

export function openStore(opts: OpenStoreOptions): ConversationStore {
  const embedded = new LmdbStore(path.join(opts.dataDir, 'conversations'), opts.retentionMs, { log: opts.log });
  if (!opts.redisUrl) return embedded;
  const redis = new RedisStore(opts.redisUrl, { retentionMs: opts.retentionMs, log: opts.log });
  return new FallbackStore(redis, embedded, opts.log);
}
