// The embedded store at a team's size (issue 20): fills it through its own interface to
// BENCH_STORE_POINTS conversation points and BENCH_STORE_TRANSCRIPTS transcripts, then measures single
// calls on it against an empty store in the same run, interleaved call by call so machine load hits both
// alike: write / read a point (p50, p99), append / load a transcript, start-up, a sweep with nothing due
// and with 1 % due, disk against the data's own size. Then the same for the old FileStore at a size it
// reaches in reasonable time (BENCH_STORE_FILE_POINTS), as the baseline.
// Run: npm run bench:store (a few minutes; BENCH_STORE_POINTS=100000 for a quick look).
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStore } from '../src/conversations/stores/file-store.js';
import { LmdbStore } from '../src/conversations/stores/lmdb-store.js';
import type { ConversationStore } from '../src/conversations/stores/store.js';

const POINTS = Number(process.env.BENCH_STORE_POINTS ?? 1_000_000);
const TRANSCRIPTS = Number(process.env.BENCH_STORE_TRANSCRIPTS ?? 100_000);
const FILE_POINTS = Number(process.env.BENCH_STORE_FILE_POINTS ?? 20_000);
const SAMPLES = Number(process.env.BENCH_STORE_SAMPLES ?? 1_000);
const RETENTION = 30 * 86_400_000;
const BATCH = 2_000;

const pointKey = (i: number) => crypto.createHash('sha256').update(`point-${i}`).digest('hex');
const point = () => ({ sessionId: crypto.randomUUID(), leaf: crypto.randomUUID(), account: 'default' });
const sessionOf = (i: number) => ({ projectKey: 'p', sessionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` });
/** A turn's transcript entries: the user message and the answer, ~1.2 KB of JSON together. */
const turn = (i: number, n: number) => [
  { type: 'user', uuid: crypto.randomUUID(), sessionId: sessionOf(i).sessionId, message: { role: 'user', content: `turn ${n}: ${'please change the code so that '.repeat(8)}` } },
  { type: 'assistant', uuid: crypto.randomUUID(), message: { role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'Done. '.repeat(100) }], usage: { input_tokens: 1200, output_tokens: 300 } } },
];
const TURNS_PER_TRANSCRIPT = 2;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const ms = (n: number) => (n < 1 ? n.toFixed(3) : n < 100 ? n.toFixed(2) : n.toFixed(0));
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const duBytes = (dir: string) => Number(execFileSync('du', ['-sk', dir]).toString().split('\t')[0]) * 1024;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Data's own size: keys and JSON values of what the store holds. */
let dataBytes = 0;

async function fill(store: ConversationStore, points: number, transcripts: number, label: string): Promise<void> {
  const started = Date.now();
  dataBytes = 0;
  for (let i = 0; i < points; i += BATCH) {
    const calls: Promise<void>[] = [];
    for (let j = i; j < Math.min(points, i + BATCH); j++) {
      const k = pointKey(j);
      const v = point();
      dataBytes += k.length + JSON.stringify(v).length;
      // 1 % expire in two days (the rest in 30): what the sweep measurement removes, three days on.
      calls.push(store.putRecord('point', k, v, j % 100 === 0 ? 2 * 86_400_000 : RETENTION));
    }
    await Promise.all(calls);
    if (i % 200_000 === 0) process.stderr.write(`${label}: ${i} points, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  for (let i = 0; i < transcripts; i += BATCH / 4) {
    const calls: Promise<void>[] = [];
    for (let j = i; j < Math.min(transcripts, i + BATCH / 4); j++) {
      for (let n = 0; n < TURNS_PER_TRANSCRIPT; n++) {
        const entries = turn(j, n);
        dataBytes += 36 + entries.map((e) => JSON.stringify(e).length + 1).reduce((a, b) => a + b, 0);
        calls.push(store.append(sessionOf(j), entries));
      }
    }
    await Promise.all(calls);
    if (i % 20_000 === 0) process.stderr.write(`${label}: ${i} transcripts, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  process.stderr.write(`${label}: filled in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

interface Row {
  store: string;
  size: string;
  write: number[];
  read: number[];
  append: number[];
  load: number[];
  openMs: number;
  sweepIdleMs: number;
  sweepDueMs: number;
  swept: number;
  disk: number;
  data: number;
}

/** One sample of each call on each store in turn, SAMPLES times: load hits both stores alike. */
async function measure(stores: { s: ConversationStore; points: number; transcripts: number; row: Row }[]): Promise<void> {
  for (let i = 0; i < SAMPLES; i++) {
    for (const { s, points, transcripts, row } of stores) {
      row.write.push(await timed(() => s.putRecord('point', `new-${i}-${crypto.randomUUID()}`, point())));
      const k = points ? pointKey(Math.floor(Math.random() * points)) : `new-${i}`;
      row.read.push(await timed(() => s.getRecord('point', k)));
      const t = transcripts ? Math.floor(Math.random() * transcripts) : 10_000_000 + i;
      row.append.push(await timed(() => s.append(sessionOf(t), turn(t, 99))));
      row.load.push(await timed(() => s.load(sessionOf(t))));
    }
  }
}

const newRow = (store: string, size: string): Row => ({ store, size, write: [], read: [], append: [], load: [], openMs: 0, sweepIdleMs: 0, sweepDueMs: 0, swept: 0, disk: 0, data: 0 });

async function bench(
  name: string,
  open: (dir: string) => ConversationStore & { sweep(): Promise<unknown> },
  points: number,
  transcripts: number,
  diskOf: (dir: string) => number,
): Promise<Row[]> {
  const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-bench-store-empty-'));
  const fullDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-bench-store-full-'));
  const empty = newRow(name, 'empty');
  const full = newRow(name, `${points.toLocaleString('en')} points, ${transcripts.toLocaleString('en')} transcripts`);
  let filler = open(fullDir);
  await fill(filler, points, transcripts, name);
  full.data = dataBytes;
  await filler.close();
  execFileSync('sync'); // the fill's writes reach the disk before anything is timed
  // Start-up: open and serve a first read.
  let e!: ConversationStore & { sweep(): Promise<unknown> };
  let f!: ConversationStore & { sweep(): Promise<unknown> };
  empty.openMs = await timed(async () => void (await (e = open(emptyDir)).getRecord('point', 'x')));
  full.openMs = await timed(async () => void (await (f = open(fullDir)).getRecord('point', pointKey(1))));
  empty.sweepIdleMs = await timed(() => e.sweep());
  full.sweepIdleMs = await timed(() => f.sweep());
  await measure([
    { s: e, points: 0, transcripts: 0, row: empty },
    { s: f, points, transcripts, row: full },
  ]);
  // The 1 % written with a two-day TTL: make them due (the store's clock is Date.now) and sweep them.
  const realNow = Date.now;
  Date.now = () => realNow() + 3 * 86_400_000;
  try {
    const removed = { n: 0 };
    empty.sweepDueMs = await timed(async () => void (await e.sweep()));
    full.sweepDueMs = await timed(async () => void (removed.n = Number((await f.sweep()) ?? 0)));
    full.swept = removed.n || Math.ceil(points / 100);
  } finally {
    Date.now = realNow;
  }
  await Promise.all([e.close(), f.close()]);
  execFileSync('sync');
  empty.disk = diskOf(emptyDir);
  full.disk = diskOf(fullDir);
  fs.rmSync(emptyDir, { recursive: true, force: true });
  fs.rmSync(fullDir, { recursive: true, force: true });
  filler = undefined as never;
  return [empty, full];
}

function print(rows: Row[]): void {
  const head = ['store', 'size', 'write point p50/p99 ms', 'read point p50/p99 ms', 'append turn p50/p99 ms', 'load transcript p50/p99 ms', 'start-up ms', 'sweep, nothing due ms', 'sweep, 1 % due ms', 'disk', 'data', 'disk/data'];
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const pp = (xs: number[]) => `${ms(pct(xs, 0.5))} / ${ms(pct(xs, 0.99))}`;
    console.log(
      `| ${[r.store, r.size, pp(r.write), pp(r.read), pp(r.append), pp(r.load), ms(r.openMs), ms(r.sweepIdleMs), `${ms(r.sweepDueMs)}${r.swept ? ` (${r.swept.toLocaleString('en')} removed)` : ''}`, mb(r.disk), r.data ? mb(r.data) : '', r.data ? (r.disk / r.data).toFixed(2) : ''].join(' | ')} |`,
    );
  }
}

const load = os.loadavg().map((n) => n.toFixed(1)).join(' ');
console.log(`# store bench: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${mb(os.totalmem())} RAM, load ${load} at start, node ${process.version}`);
const lmdb = await bench('LMDB (lmdb-store.ts)', (dir) => new LmdbStore(dir, RETENTION, { sweepEveryMs: 86_400_000 }), POINTS, TRANSCRIPTS, (dir) => duBytes(dir));
const files = await bench('FileStore (before)', (dir) => new FileStore(dir, RETENTION), FILE_POINTS, Math.round(FILE_POINTS / 10), (dir) => duBytes(dir));
print([...lmdb, ...files]);
console.log(`# load ${os.loadavg().map((n) => n.toFixed(1)).join(' ')} at end; p99 of single calls is dominated by the machine's load (fsync, scheduling)`);
