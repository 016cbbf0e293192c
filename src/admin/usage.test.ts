// The usage book on a real LmdbStore (the embedded default): aggregation per day, key and model (dialects folded unless
// asked), averages, CSV quoting, and days forgotten after the retention.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LmdbStore } from '../conversations/stores/lmdb-store.js';
import { dayOf } from './periods.js';
import { UsageBook, usageCsv } from './usage.js';

const store = () => new LmdbStore(fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-usage-book-')), 60_000);
const turn = (model: string, status: number, input: number, output: number, extra: { ttftMs?: number; durationMs?: number; cost?: number } = {}) => ({
  model,
  status,
  usage: { inputTokens: input, outputTokens: output, cacheReadTokens: 2, cacheCreationTokens: 1 },
  costUsd: extra.cost ?? 0.001,
  ttftMs: extra.ttftMs,
  durationMs: extra.durationMs ?? 100,
});

test('aggregates per day, key and model; dialects apart only when asked; averages and budget tokens', async () => {
  const s = store();
  try {
    const book = new UsageBook(s, 86_400_000);
    const k = { keyId: 'key_a', keyName: 'A' };
    const now = Date.parse('2026-03-01T12:00:00Z');
    await book.record(k, 'openai-chat', turn('m1', 200, 10, 5, { ttftMs: 40, durationMs: 100 }), now);
    await book.record(k, 'anthropic', turn('m1', 200, 20, 7, { ttftMs: 60, durationMs: 300 }), now);
    await book.record(k, 'anthropic', turn('m1', 429, 0, 0, { durationMs: 0, cost: 0 }), now);
    await book.record(k, 'anthropic', turn('m1', 499, 3, 0, { durationMs: 50, cost: 0 }), now); // the client went away: not an error
    await book.record({ keyId: 'admin', keyName: 'admin' }, 'responses', turn('m2', 200, 1, 1), now);
    await book.record(k, 'openai-chat', turn('m1', 200, 1, 1), Date.parse('2026-03-02T00:00:01Z'));

    const day = await book.query({ from: '2026-03-01', to: '2026-03-01' });
    assert.deepEqual(
      day.map((r) => [r.key_id, r.model, r.requests, r.errors, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.ttft_ms_avg, r.duration_ms_avg]),
      [
        ['admin', 'm2', 1, 0, 1, 1, 2, 1, null, 100],
        ['key_a', 'm1', 4, 1, 33, 12, 8, 4, 50, 113],
      ],
    );
    assert.equal(day[1].cost_usd, 0.002);
    const split = await book.query({ from: '2026-03-01', to: '2026-03-02', key: 'key_a', byDialect: true });
    assert.deepEqual(split.map((r) => [r.day, r.dialect, r.requests]), [
      ['2026-03-01', 'anthropic', 3],
      ['2026-03-01', 'openai-chat', 1],
      ['2026-03-02', 'openai-chat', 1],
    ]);
    assert.equal((await book.totals('key_a', '2026-03-01')).tokens, 10 + 5 + 3 + 20 + 7 + 3 + 0 + 3 + 3 + 3);
    assert.equal((await book.totals('key_a', '2026-03')).requests, 5);
    const csv = usageCsv([{ ...day[0], key_name: 'a, "b"' }], false).split('\r\n');
    assert.equal(csv[1], '2026-03-01,admin,"a, ""b""",m2,1,0,1,1,2,1,0.001,,100');
  } finally {
    await s.close();
  }
});

test('a day is forgotten after the retention', async () => {
  const s = store();
  try {
    const book = new UsageBook(s, 1_500);
    await book.record({ keyId: 'k', keyName: 'k' }, 'anthropic', turn('m', 200, 1, 1));
    const today = dayOf(Date.now());
    assert.equal((await book.query({ from: today, to: today })).length, 1);
    // The day's rows and the key's day totals are written one after the other, each with the
    // retention from its own write: both go, though not at the same millisecond.
    const until = Date.now() + 6_000;
    while ((await book.query({ from: today, to: today })).length || (await book.totals('k', today)).requests) {
      assert.ok(Date.now() < until, 'still there after its retention');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await book.query({ from: today, to: today })).length, 0);
    assert.equal((await book.totals('k', today)).requests, 0);
  } finally {
    await s.close();
  }
});
