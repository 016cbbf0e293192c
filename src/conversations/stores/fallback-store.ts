// Redis in front, the embedded store behind: when the primary fails (down, timing out) the call is
// served by the fallback, so an outage costs sharing between replicas for its duration, never a
// failed request. Reads try the fallback too when the primary has nothing, because whatever was
// written during an outage lives only there; deletes go to both for the same reason.
import type { Logger } from 'pino';
import type { ConversationStore, SessionKey, SessionStoreEntry } from './store.js';

const WARN_EVERY_MS = 30_000;

export class FallbackStore implements ConversationStore {
  readonly kind: string;
  /** Calls the primary failed and the fallback served (or, for deletes, the fallback alone did). */
  degraded = 0;
  private lastWarn = 0;

  constructor(
    private readonly primary: ConversationStore,
    private readonly fallback: ConversationStore,
    private readonly log: Logger,
  ) {
    this.kind = `${primary.kind}+${fallback.kind}`;
  }

  private failed(op: string, err: unknown): void {
    this.degraded++;
    const now = Date.now();
    if (now - this.lastWarn < WARN_EVERY_MS) return;
    this.lastWarn = now;
    this.log.warn(
      { store: this.primary.kind, fallback: this.fallback.kind, op, err: err instanceof Error ? err.message : String(err), degraded: this.degraded },
      'conversation store unavailable; using the fallback',
    );
  }

  /** The primary's answer, or the fallback's when the primary throws. */
  private async either<T>(op: string, primary: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await primary();
    } catch (err) {
      this.failed(op, err);
      return fallback();
    }
    return result;
  }

  /** Both stores; only the fallback's failure is the caller's (the primary's is counted). */
  private async both(op: string, primary: () => Promise<void>, fallback: () => Promise<void>): Promise<void> {
    const [p, f] = await Promise.allSettled([primary(), fallback()]);
    if (p.status === 'rejected') this.failed(op, p.reason);
    if (f.status === 'rejected') throw f.reason;
  }

  append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    return this.either('append', () => this.primary.append(key, entries), () => this.fallback.append(key, entries));
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    // A transcript split across the two (begun before an outage, continued during it) resumes from
    // the primary's part alone: merging would need an order the two stores do not share.
    const got = await this.either('load', () => this.primary.load(key), async () => null);
    return got ?? this.fallback.load(key);
  }

  delete(key: SessionKey): Promise<void> {
    return this.both(
      'delete',
      async () => this.primary.delete?.(key),
      async () => this.fallback.delete?.(key),
    );
  }

  async getRecord<T>(ns: string, key: string): Promise<T | undefined> {
    const got = await this.either<T | undefined>('getRecord', () => this.primary.getRecord<T>(ns, key), async () => undefined);
    return got !== undefined ? got : this.fallback.getRecord<T>(ns, key);
  }

  putRecord(ns: string, key: string, value: unknown, ttlMs?: number): Promise<void> {
    return this.either(
      'putRecord',
      () => this.primary.putRecord(ns, key, value, ttlMs),
      () => this.fallback.putRecord(ns, key, value, ttlMs),
    );
  }

  deleteRecord(ns: string, key: string): Promise<void> {
    return this.both(
      'deleteRecord',
      () => this.primary.deleteRecord(ns, key),
      () => this.fallback.deleteRecord(ns, key),
    );
  }

  async close(): Promise<void> {
    const [p, f] = await Promise.allSettled([this.primary.close(), this.fallback.close()]);
    if (p.status === 'rejected') this.log.warn({ err: String(p.reason) }, 'closing the primary conversation store failed');
    if (f.status === 'rejected') throw f.reason;
  }
}
