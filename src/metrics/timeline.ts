// Turns per minute over the last hour, by model and by key: what the dashboard charts live (the daily
// usage of the admin API is the long view). Memory is bounded: 60 buckets, each holding only the
// models and keys seen in its minute.
export interface Point {
  requests: number;
  errors: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
}

export type SeriesKind = 'model' | 'key';
const FIELDS = ['requests', 'errors', 'input', 'output', 'cacheRead', 'cacheWrite', 'costUsd'] as const;

const zero = (): Point => ({ requests: 0, errors: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0 });

interface Bucket {
  minute: number;
  series: Map<string, Point>;
}

export interface TimelineSnapshot {
  /** Start of each minute, Unix seconds, oldest first. */
  minutes: number[];
  /** Per model and per key name: each field as one value per minute. */
  model: Record<string, Record<keyof Point, number[]>>;
  key: Record<string, Record<keyof Point, number[]>>;
}

export class Timeline {
  private readonly buckets: Bucket[] = [];

  constructor(private readonly minutes = 60) {}

  record(at: number, labels: { model: string; key: string }, p: Partial<Point>): void {
    const minute = Math.floor(at / 60_000);
    let b = this.buckets.find((x) => x.minute === minute);
    if (!b) {
      b = { minute, series: new Map() };
      this.buckets.push(b);
      this.buckets.sort((x, y) => x.minute - y.minute);
    }
    for (const [kind, name] of [['model', labels.model], ['key', labels.key]] as const) {
      const id = `${kind}\0${name}`;
      let point = b.series.get(id);
      if (!point) b.series.set(id, (point = zero()));
      for (const f of FIELDS) point[f] += p[f] ?? 0;
    }
    this.trim(minute);
  }

  private trim(nowMinute: number): void {
    while (this.buckets.length && this.buckets[0].minute <= nowMinute - this.minutes) this.buckets.shift();
  }

  snapshot(now = Date.now()): TimelineSnapshot {
    const last = Math.floor(now / 60_000);
    this.trim(last);
    const first = last - this.minutes + 1;
    const minutes = Array.from({ length: this.minutes }, (_, i) => (first + i) * 60);
    const out: TimelineSnapshot = { minutes, model: {}, key: {} };
    for (const b of this.buckets) {
      const i = b.minute - first;
      if (i < 0 || i >= this.minutes) continue;
      for (const [id, point] of b.series) {
        const [kind, name] = id.split('\0') as [SeriesKind, string];
        const series = (out[kind][name] ??= Object.fromEntries(FIELDS.map((f) => [f, new Array(this.minutes).fill(0)])) as Record<keyof Point, number[]>);
        for (const f of FIELDS) series[f][i] += point[f];
      }
    }
    return out;
  }
}
