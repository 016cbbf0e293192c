// The windows limits and usage are counted in, all in UTC: a minute (requests and tokens per
// minute, fixed windows), a day and a month (token budgets, usage aggregates).

export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);
export const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

/** Whole seconds (at least 1) from ms until the next minute starts. */
export function secondsToNextMinute(ms: number): number {
  return Math.max(1, Math.ceil(((minuteOf(ms) + 1) * 60_000 - ms) / 1000));
}

/** Whole seconds (at least 1) from ms until the next UTC day starts. */
export function secondsToNextDay(ms: number): number {
  const d = new Date(ms);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - ms) / 1000));
}

/** Whole seconds (at least 1) from ms until the next UTC month starts. */
export function secondsToNextMonth(ms: number): number {
  const d = new Date(ms);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((next - ms) / 1000));
}

/** The days from `from` to `to` (YYYY-MM-DD, both included). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(dayOf(t));
  return out;
}
