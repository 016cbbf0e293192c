// The warm pool's count tells the truth: only a process that had finished starting is a hit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CliProcess } from '../cli-process.js';
import type { WarmTake } from '../events.js';
import { ProcessPool } from './warm-pool.js';

/** A stand-in process whose start-up the test finishes by hand. */
function fakeProcess(): CliProcess & { finishStarting(): void } {
  const p = {
    state: 'spawning',
    get alive() {
      return p.state !== 'done';
    },
    kill: async () => {
      p.state = 'done';
    },
    finishStarting() {
      p.state = 'ready';
    },
  };
  return p as unknown as CliProcess & { finishStarting(): void };
}

test('a burst that outruns the pool: cold, then processes taken while still starting, are misses', async () => {
  const takes: WarmTake[] = [];
  const made: ReturnType<typeof fakeProcess>[] = [];
  const make = () => {
    const p = fakeProcess();
    made.push(p);
    return p;
  };
  const pool = new ProcessPool({ perProfile: 1, maxProfiles: 2, idleMs: 60_000, maxIdlePerProfile: 4, onTake: (h) => takes.push(h) });
  for (let i = 0; i < 4; i++) pool.take('shape', make);
  assert.deepEqual(takes, ['cold', 'starting', 'starting', 'starting']);
  assert.equal(pool.hits, 0);
  assert.equal(pool.misses, 4);
  assert.equal(pool.takenStarting, 3);

  // The replacement finishes starting before the next request: that one is served warm.
  made.at(-1)!.finishStarting();
  const got = pool.take('shape', make);
  assert.equal(got, made.at(-2));
  assert.deepEqual(takes.at(-1), 'hit');
  assert.equal(pool.hits, 1);
  await pool.close();
});
