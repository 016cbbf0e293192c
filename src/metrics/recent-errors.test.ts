import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentErrors } from './recent-errors.js';

const err = (n: number) => ({ at: String(n), kind: 'cli_failure', status: 502, message: `e${n}` });

test('recent errors: newest first, bounded, the oldest dropped', () => {
  const r = new RecentErrors(3);
  assert.deepEqual(r.list(), []);
  r.add(err(1));
  r.add(err(2));
  assert.deepEqual(r.list().map((e) => e.message), ['e2', 'e1']);
  for (let i = 3; i <= 7; i++) r.add(err(i));
  assert.deepEqual(r.list().map((e) => e.message), ['e7', 'e6', 'e5']);
  assert.equal(r.total, 7);
});
