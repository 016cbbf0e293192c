// Redis in front, the embedded store behind: when the primary fails (down, timing out) the call is
// served by the fallback, so an outage costs sharing between replicas for its duration, never a
// failed request. Reads try the fallback too when the primary has nothing, because whatever was
// written during an outage lives only there; deletes go to both for the same reason.
import type { Logger } from 'pino';
import type { ConversationStore, CounterRows, SessionKey, SessionStoreEntry } from './store.js';

function sumRow(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, n] of Object.entries(b)) out[k] = (out[k] ?? 0) + n;
  return out;
}

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

  // Rows (app keys) are shared state whose writes must not diverge between replicas: a write needs
  // the primary (it fails during an outage), and is mirrored to the fallback, so that during an
  // outage every replica still knows the keys it last saw. A read from the primary refreshes the
  // mirror when they differ (a key created or revoked on another replica).

  async getRow<T>(table: string, row: string): Promise<T | undefined> {
    let got: T | undefined;
    try {
      got = await this.primary.getRow<T>(table, row);
    } catch (err) {
      this.failed('getRow', err);
      return this.fallback.getRow<T>(table, row);
    }
    if (got !== undefined) void this.mirror(table, row, got);
    return got;
  }

  private async mirror(table: string, row: string, value: unknown): Promise<void> {
    try {
      const mine = await this.fallback.getRow(table, row);
      if (JSON.stringify(mine) !== JSON.stringify(value)) await this.fallback.putRow(table, row, value);
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err), table }, 'could not mirror a row to the fallback store');
    }
  }

  async putRow(table: string, row: string, value: unknown): Promise<void> {
    await this.primary.putRow(table, row, value);
    await this.fallback.putRow(table, row, value);
  }

  async readRows<T>(table: string): Promise<Record<string, T>> {
    let got: Record<string, T>;
    try {
      got = await this.primary.readRows<T>(table);
    } catch (err) {
      this.failed('readRows', err);
      return this.fallback.readRows<T>(table);
    }
    for (const [row, value] of Object.entries(got)) void this.mirror(table, row, value);
    return got;
  }

  // Counters go to the primary, or during an outage to the fallback; a read adds the two, so counts
  // made during an outage are not lost once it is over (each count lives in exactly one of them).
  // During an outage each replica counts alone: shared limits hold per replica until Redis is back.

  addCounters(table: string, row: string, add: Record<string, number>, ttlMs: number): Promise<Record<string, number>> {
    return this.either(
      'addCounters',
      async () => {
        const mine = await this.primary.addCounters(table, row, add, ttlMs);
        const theirs = (await this.fallback.readCounters(table))[row];
        return theirs ? sumRow(mine, theirs) : mine;
      },
      async () => {
        const mine = await this.fallback.addCounters(table, row, add, ttlMs);
        return mine;
      },
    );
  }

  async readCounters(table: string): Promise<CounterRows> {
    const [p, f] = await Promise.allSettled([this.primary.readCounters(table), this.fallback.readCounters(table)]);
    if (f.status === 'rejected') throw f.reason;
    if (p.status === 'rejected') {
      this.failed('readCounters', p.reason);
      return f.value;
    }
    const out: CounterRows = { ...p.value };
    for (const [row, fields] of Object.entries(f.value)) out[row] = out[row] ? sumRow(out[row], fields) : fields;
    return out;
  }

  async close(): Promise<void> {
    const [p, f] = await Promise.allSettled([this.primary.close(), this.fallback.close()]);
    if (p.status === 'rejected') this.log.warn({ err: String(p.reason) }, 'closing the primary conversation store failed');
    if (f.status === 'rejected') throw f.reason;
  }
}
