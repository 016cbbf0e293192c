// Usage: every turn adds its counts to three counter tables: the day's table (a row per key, model
// and dialect: what /admin/usage reports), and the key's totals for the day and the month (what
// budgets and the key list read). Counts are what the client was told (the turn's final usage).
import type { ConversationStore, CounterRows } from '../conversations/stores/store.js';
import type { TurnSummary } from '../engine/types.js';
import { dayOf, daysBetween, minuteOf, monthOf } from './periods.js';

export const ADMIN_KEY_ID = 'admin';

/** The counters kept per row. */
export interface UsageCounts {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
}

export interface UsageRow extends UsageCounts {
  day: string;
  key_id: string;
  key_name: string;
  model: string;
  dialect?: string;
  ttft_ms_avg: number | null;
  duration_ms_avg: number | null;
}

export interface UsageQuery {
  from: string;
  to: string;
  key?: string;
  model?: string;
  byDialect?: boolean;
}

export const usageTable = (day: string) => `usage:${day}`;
export const keyTotalsTable = (keyId: string, period: string) => `keyuse:${keyId}:${period}`;
export const rateTable = (keyId: string, minute: number) => `rate:${keyId}:${minute}`;
const TOTAL = 'total';
/** A rate window's table outlives its minute a little, for the minute that follows it to read. */
const RATE_TTL_MS = 120_000;
/** A month's totals must last the month, whatever the retention. */
const MONTH_MIN_TTL_MS = 35 * 86_400_000;

/** Tokens a turn counts against budgets and tokens-per-minute: everything the model read and wrote. */
export const budgetTokens = (s: Pick<TurnSummary, 'usage'>): number =>
  s.usage.inputTokens + s.usage.outputTokens + s.usage.cacheReadTokens + s.usage.cacheCreationTokens;

const emptyCounts = (): UsageCounts => ({ requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 });

function countsOf(fields: Record<string, number> | undefined): UsageCounts {
  const c = emptyCounts();
  if (!fields) return c;
  for (const k of Object.keys(c) as (keyof UsageCounts)[]) c[k] = fields[k] ?? 0;
  c.cost_usd = roundCost(c.cost_usd);
  return c;
}

const roundCost = (n: number) => Math.round(n * 1e6) / 1e6;

export class UsageBook {
  constructor(
    private readonly store: ConversationStore,
    private readonly retentionMs: number,
  ) {}

  /** Add one turn (or a request refused before its turn started) to the books. */
  async record(who: { keyId: string; keyName: string }, dialect: string, s: TurnSummary, now = Date.now()): Promise<void> {
    const failed = s.status >= 400 && s.status !== 499;
    const add: Record<string, number> = {
      requests: 1,
      errors: failed ? 1 : 0,
      input_tokens: s.usage.inputTokens,
      output_tokens: s.usage.outputTokens,
      cache_read_tokens: s.usage.cacheReadTokens,
      cache_write_tokens: s.usage.cacheCreationTokens,
      cost_usd: s.costUsd,
    };
    const tokens = budgetTokens(s);
    const day = dayOf(now);
    const row = [who.keyId, who.keyName, s.model, dialect].join('\t');
    await Promise.all([
      this.store.addCounters(
        usageTable(day),
        row,
        { ...add, duration_ms_sum: s.durationMs, ttft_ms_sum: s.ttftMs ?? 0, ttft_count: s.ttftMs === undefined ? 0 : 1 },
        this.retentionMs,
      ),
      this.store.addCounters(keyTotalsTable(who.keyId, day), TOTAL, { ...add, tokens }, this.retentionMs),
      this.store.addCounters(keyTotalsTable(who.keyId, monthOf(now)), TOTAL, { ...add, tokens }, Math.max(this.retentionMs, MONTH_MIN_TTL_MS)),
      tokens ? this.store.addCounters(rateTable(who.keyId, minuteOf(now)), TOTAL, { tokens }, RATE_TTL_MS) : undefined,
    ]);
  }

  /** A key's totals for a day (YYYY-MM-DD) or a month (YYYY-MM), with `tokens`, the budget's count. */
  async totals(keyId: string, period: string): Promise<UsageCounts & { tokens: number }> {
    const row = (await this.store.readCounters(keyTotalsTable(keyId, period)))[TOTAL];
    return { ...countsOf(row), tokens: row?.tokens ?? 0 };
  }

  /** Aggregates per day, key and model (and dialect, when asked), oldest day first. */
  async query(q: UsageQuery): Promise<UsageRow[]> {
    const days = daysBetween(q.from, q.to);
    const tables = await Promise.all(days.map((d) => this.store.readCounters(usageTable(d))));
    const out: UsageRow[] = [];
    days.forEach((day, i) => out.push(...aggregate(day, tables[i], q)));
    return out;
  }
}

function aggregate(day: string, rows: CounterRows, q: UsageQuery): UsageRow[] {
  const groups = new Map<string, { row: Omit<UsageRow, 'ttft_ms_avg' | 'duration_ms_avg'>; ttftSum: number; ttftCount: number; durationSum: number }>();
  for (const [name, fields] of Object.entries(rows)) {
    const [keyId, keyName, model, dialect] = name.split('\t');
    if (dialect === undefined) continue; // not a row this code wrote
    if (q.key && keyId !== q.key) continue;
    if (q.model && model !== q.model) continue;
    const id = q.byDialect ? `${keyId}\t${model}\t${dialect}` : `${keyId}\t${model}`;
    let g = groups.get(id);
    if (!g) {
      g = { row: { day, key_id: keyId, key_name: keyName, model, ...(q.byDialect ? { dialect } : {}), ...emptyCounts() }, ttftSum: 0, ttftCount: 0, durationSum: 0 };
      groups.set(id, g);
    }
    const c = countsOf(fields);
    for (const k of Object.keys(c) as (keyof UsageCounts)[]) g.row[k] += c[k];
    g.ttftSum += fields.ttft_ms_sum ?? 0;
    g.ttftCount += fields.ttft_count ?? 0;
    g.durationSum += fields.duration_ms_sum ?? 0;
  }
  return [...groups.values()]
    .map((g) => ({
      ...g.row,
      cost_usd: roundCost(g.row.cost_usd),
      ttft_ms_avg: g.ttftCount ? Math.round(g.ttftSum / g.ttftCount) : null,
      duration_ms_avg: g.row.requests ? Math.round(g.durationSum / g.row.requests) : null,
    }))
    .sort((a, b) => a.key_id.localeCompare(b.key_id) || a.model.localeCompare(b.model) || (a.dialect ?? '').localeCompare(b.dialect ?? ''));
}

export const USAGE_COLUMNS = [
  'day',
  'key_id',
  'key_name',
  'model',
  'dialect',
  'requests',
  'errors',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'cost_usd',
  'ttft_ms_avg',
  'duration_ms_avg',
] as const;

/** RFC 4180 CSV: a header line, then a line per row; fields with a comma, quote or newline quoted. */
export function usageCsv(rows: UsageRow[], byDialect: boolean): string {
  const cols = USAGE_COLUMNS.filter((c) => byDialect || c !== 'dialect');
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c as keyof UsageRow])).join(','))].join('\r\n') + '\r\n';
}
