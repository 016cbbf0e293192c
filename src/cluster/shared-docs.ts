// The Claude login shared by every replica: the stored credential and the pool's members live in
// Redis, each sealed with AES-256-GCM under a subkey of GATEWAY_SECRET_KEY (keys.ts), never in plain
// text. Each replica keeps the opened text in memory (the stores above read synchronously); a write
// goes to Redis at once and is announced on a channel, so every replica re-reads it within
// milliseconds, and a version counter polled every second catches a notice missed while reconnecting.
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { SecretDoc } from '../auth/secret-doc.js';
import type { Logger } from '../log.js';
import { open, seal, type Sealed } from './keys.js';
import { CLUSTER_PREFIX } from './redis.js';

const CHANNEL = `${CLUSTER_PREFIX}docs`;
const VERSION_KEY = `${CLUSTER_PREFIX}docs:version`;
const docKey = (name: string) => `${CLUSTER_PREFIX}doc:${name}`;
const POLL_MS = 1_000;

class SharedDoc implements SecretDoc {
  readonly where = 'the shared store (Redis, encrypted with GATEWAY_SECRET_KEY)';
  text: string | undefined;
  ver = 0;
  constructor(
    readonly name: string,
    private readonly owner: SharedDocs,
  ) {}
  read(): string | undefined {
    return this.text;
  }
  version(): string {
    return String(this.ver);
  }
  write(text: string): void {
    this.text = text;
    this.ver++;
    this.owner.persist(this.name, text);
  }
  remove(): boolean {
    const had = this.text !== undefined;
    this.text = undefined;
    this.ver++;
    this.owner.persist(this.name, undefined);
    return had;
  }
}

export class SharedDocs {
  private readonly docs = new Map<string, SharedDoc>();
  private readonly events = new EventEmitter();
  private pending: Promise<void> = Promise.resolve();
  private seenVersion: string | null = null;
  private poller: NodeJS.Timeout | undefined;
  private warnedUnreadable = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly sub: Redis | undefined,
    private readonly key: Buffer,
    private readonly log: Logger,
  ) {}

  doc(name: string): SecretDoc {
    let d = this.docs.get(name);
    if (!d) this.docs.set(name, (d = new SharedDoc(name, this)));
    return d;
  }

  /** Called after a document changed on another replica (or in a `login` command). */
  onChange(name: string, fn: () => void): void {
    this.events.on(name, fn);
  }

  /** Read every document, then follow changes: the channel at once, the version counter every second. */
  async start(): Promise<void> {
    await this.reloadAll();
    if (!this.sub) return;
    this.sub.on('message', (channel: string, name: string) => {
      if (channel === CHANNEL && this.docs.has(name)) void this.reload(name);
    });
    await this.sub.subscribe(CHANNEL).catch((e: Error) => this.log.warn({ err: e.message }, 'cluster: cannot follow login changes yet (polling instead)'));
    this.poller = setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
  }

  private async poll(): Promise<void> {
    try {
      const v = await this.redis.get(VERSION_KEY);
      if (v !== this.seenVersion) await this.reloadAll();
    } catch {
      /* Redis away: keep what we have, look again next beat */
    }
  }

  private async reloadAll(): Promise<void> {
    this.seenVersion = await this.redis.get(VERSION_KEY);
    await Promise.all([...this.docs.keys()].map((n) => this.reload(n)));
  }

  private async reload(name: string): Promise<void> {
    const d = this.docs.get(name)!;
    const raw = await this.redis.get(docKey(name)).catch(() => null);
    let text: string | undefined;
    if (raw !== null) {
      try {
        text = open(this.key, name, JSON.parse(raw) as Sealed);
        this.warnedUnreadable.delete(name);
      } catch {
        // Another GATEWAY_SECRET_KEY wrote it (a rotation without logging in again): say so once, treat as absent.
        if (!this.warnedUnreadable.has(name)) this.log.error({ doc: name }, 'cluster: the shared login does not open with this GATEWAY_SECRET_KEY; every replica needs the same key (log in again after changing it)');
        this.warnedUnreadable.add(name);
        text = undefined;
      }
    }
    if (text === d.text) return;
    d.text = text;
    d.ver++;
    this.events.emit(name);
  }

  /** Write (or delete) a document in Redis and tell the other replicas; writes go out in order. */
  persist(name: string, text: string | undefined): void {
    const job = async () => {
      const multi = this.redis.multi();
      if (text === undefined) multi.del(docKey(name));
      else multi.set(docKey(name), JSON.stringify(seal(this.key, name, text)));
      multi.incr(VERSION_KEY);
      multi.publish(CHANNEL, name);
      const res = await multi.exec();
      const v = res?.[1]?.[1];
      if (typeof v === 'number') this.seenVersion = String(v);
    };
    this.pending = this.pending.then(job).catch((e: Error) => this.log.error({ doc: name, err: e.message }, 'cluster: could not write the shared login (Redis unavailable): this change is on this replica only until it is made again'));
  }

  /** Settles once every write made so far has reached Redis (or failed). */
  flush(): Promise<void> {
    return this.pending;
  }

  close(): void {
    clearInterval(this.poller);
  }
}
