import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Timeline } from './timeline.js';

test('timeline: per-minute sums by model and key, zero-filled, older than the window dropped', () => {
  const t = new Timeline(3);
  const m0 = 1_000 * 60_000;
  t.record(m0 + 1_000, { model: 'a', key: 'k1' }, { requests: 1, input: 10 });
  t.record(m0 + 2_000, { model: 'a', key: 'k2' }, { requests: 1, input: 5 });
  t.record(m0 + 61_000, { model: 'b', key: 'k1' }, { requests: 1, output: 7, errors: 1 });
  const s = t.snapshot(m0 + 130_000);
  assert.deepEqual(s.minutes, [1000 * 60, 1001 * 60, 1002 * 60]);
  assert.deepEqual(s.model.a.requests, [2, 0, 0]);
  assert.deepEqual(s.model.a.input, [15, 0, 0]);
  assert.deepEqual(s.model.b.output, [0, 7, 0]);
  assert.deepEqual(s.key.k1.requests, [1, 1, 0]);
  assert.deepEqual(s.key.k1.errors, [0, 1, 0]);
  // Three minutes on, the first minute has left the window.
  const later = t.snapshot(m0 + 3 * 60_000 + 1);
  assert.equal(later.model.a, undefined);
  assert.deepEqual(later.model.b.output, [7, 0, 0]);
});
