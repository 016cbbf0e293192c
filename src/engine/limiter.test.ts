import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../errors.js';
import { Limiter } from './limiter.js';

test('grants up to the limit, queues FIFO, rejects when the queue is full', async () => {
  const l = new Limiter(1, 1, 60_000, () => 3);
  const r1 = await l.acquire();
  const order: string[] = [];
  const second = l.acquire().then((r) => (order.push('second'), r));
  await assert.rejects(l.acquire(), (e: any) => e instanceof GatewayError && e.status === 429 && e.extra.retryAfterSec === 3);
  r1();
  const r2 = await second;
  assert.deepEqual(order, ['second']);
  assert.equal(l.running, 1);
  r2();
  r2(); // releasing twice is harmless
  assert.equal(l.running, 0);
});

test('a waiter whose client went away leaves the queue', async () => {
  const l = new Limiter(1, 5, 60_000, () => 1);
  const r1 = await l.acquire();
  const ac = new AbortController();
  const waiting = l.acquire(ac.signal);
  assert.equal(l.waiting, 1);
  ac.abort();
  await assert.rejects(waiting);
  assert.equal(l.waiting, 0);
  r1();
  assert.equal(l.running, 0);
});
