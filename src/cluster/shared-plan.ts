// Plan limits and cooldowns shared by every replica: when a credential is found limited here (its plan
// window exhausted, or a 429 / overload cooldown), the limit is written to the shared store under the
// credential's fingerprint (never the secret) and announced, and every replica skips that credential
// until its reset instead of finding out with a failed attempt of its own.
import type { Redis } from 'ioredis';
import type { Accounts, SharedLimit } from '../accounts/accounts.js';
import type { Logger } from '../log.js';
import { CLUSTER_PREFIX } from './redis.js';

const HASH = `${CLUSTER_PREFIX}limits`;
const CHANNEL = `${CLUSTER_PREFIX}limits`;

export class SharedPlanState {
  constructor(
    private readonly redis: Redis,
    private readonly sub: Redis,
    private readonly accounts: Accounts,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.accounts.onLimited = (fp, limit) => void this.publish(fp, limit);
    this.sub.on('message', (channel: string, fp: string) => {
      if (channel === CHANNEL) void this.load(fp);
    });
    await this.sub.subscribe(CHANNEL).catch(() => {});
    const all = await this.redis.hgetall(HASH).catch(() => ({}) as Record<string, string>);
    for (const [fp, v] of Object.entries(all)) this.apply(fp, v);
  }

  private async publish(fp: string, limit: SharedLimit): Promise<void> {
    try {
      await this.redis.multi().hset(HASH, fp, JSON.stringify(limit)).publish(CHANNEL, fp).exec();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cluster: could not share a credential limit (Redis unavailable)');
    }
  }

  private async load(fp: string): Promise<void> {
    const v = await this.redis.hget(HASH, fp).catch(() => null);
    if (v) this.apply(fp, v);
  }

  private apply(fp: string, v: string): void {
    try {
      this.accounts.applyShared(fp, JSON.parse(v) as SharedLimit);
    } catch {
      /* not ours */
    }
  }
}
