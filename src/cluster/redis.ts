// The cluster's own Redis connections (beside the conversation store's): one for commands, which fails
// fast when Redis is away (callers keep what they have and try again on their next beat), and one
// subscriber for change notices, which reconnects and resubscribes by itself.
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { redactRedisUrl } from '../conversations/stores/redis-store.js';

/** Every key the cluster writes starts with this (the conversation store uses `ccg:` too, other names). */
export const CLUSTER_PREFIX = 'ccg:cluster:';

export function clusterRedis(url: string, log: Logger, subscriber = false): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: subscriber,
    maxRetriesPerRequest: subscriber ? null : 1,
    commandTimeout: subscriber ? undefined : 2_000,
    connectTimeout: 4_000,
    disconnectTimeout: 100,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 2_000),
  });
  let lastWarn = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastWarn < 30_000) return;
    lastWarn = Date.now();
    log.warn({ redis: redactRedisUrl(url), err: err.message }, 'cluster: redis unavailable');
  });
  return redis;
}

/** Resolves once the connection is ready, or false after `ms`. */
export function readyWithin(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => done(false), ms);
    const ok = () => done(true);
    const done = (v: boolean) => {
      clearTimeout(t);
      redis.off('ready', ok);
      resolve(v);
    };
    redis.on('ready', ok);
  });
}
