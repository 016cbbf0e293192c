// Which replicas are alive, and where they are: each replica writes its id and advertised URL under a
// key that expires unless its heartbeat renews it, and reads the others' on the same beat. A replica
// forwards only to a peer found here (never to an address a request names); a killed one drops out
// when its key expires, a draining one takes itself out at once.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { CLUSTER_PREFIX } from './redis.js';

export interface Peer {
  id: string;
  url: string;
}

/** A sorted set: each member a replica's JSON, its score the time its heartbeat expires (no KEYS scans). */
const SET = `${CLUSTER_PREFIX}replicas`;
export const HEARTBEAT_MS = 1_000;
/** A replica silent for this long is gone. */
export const PEER_TTL_MS = 4_000;

export class Registry {
  private peers = new Map<string, Peer>();
  private timer: NodeJS.Timeout | undefined;
  private left = false;

  constructor(
    private readonly redis: Redis,
    readonly self: Peer,
    private readonly log: Logger,
  ) {}

  private get me(): string {
    return JSON.stringify({ id: this.self.id, url: this.self.url });
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    try {
      const now = Date.now();
      const multi = this.redis.multi();
      if (!this.left) multi.zadd(SET, now + PEER_TTL_MS, this.me);
      multi.zremrangebyscore(SET, '-inf', now);
      multi.zrangebyscore(SET, now, '+inf');
      const res = await multi.exec();
      const values = (res?.[res.length - 1]?.[1] as string[] | undefined) ?? [];
      const next = new Map<string, Peer>();
      for (const v of values) {
        try {
          const p = JSON.parse(v ?? '') as Peer;
          if (typeof p.id === 'string' && typeof p.url === 'string' && p.id !== this.self.id) next.set(p.id, p);
        } catch {
          /* not ours */
        }
      }
      this.peers = next;
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'cluster: heartbeat failed');
    }
  }

  /** The live peer with this id (and this URL, when one is given), else undefined. */
  peer(id: string, url?: string): Peer | undefined {
    const p = this.peers.get(id);
    return p && (url === undefined || p.url === url) ? p : undefined;
  }

  list(): Peer[] {
    return [...this.peers.values()];
  }

  /** Stop being a forwarding target (a drain starts): the key goes now, the heartbeat stops renewing it. */
  async leave(): Promise<void> {
    this.left = true;
    await this.redis.zrem(SET, this.me).catch(() => {});
  }

  close(): void {
    clearInterval(this.timer);
  }
}
