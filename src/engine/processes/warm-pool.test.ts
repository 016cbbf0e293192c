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

test('spares grow to the arrivals of the last window, as far as the memory budget lets them', async () => {
  const made: ReturnType<typeof fakeProcess>[] = [];
  const make = () => {
    const p = fakeProcess();
    made.push(p);
    return p;
  };
  const spares: CliProcess[] = [];
  // A memory budget with room for four idle processes.
  const pool: ProcessPool = new ProcessPool({ perProfile: 1, maxPerProfile: 8, maxProfiles: 2, idleMs: 60_000, maxIdlePerProfile: 4, canGrow: () => pool.idleCount() < 4, onSpare: (p) => spares.push(p) });
  for (let i = 0; i < 6; i++) pool.take('shape', make);
  // Six arrivals ask for six spares; the budget had room for four.
  assert.equal(pool.idleCount(), 4);
  assert.ok(spares.every((p) => made.includes(p as never)));
  // Memory pressure takes the spares grown for the burst first, down to the floor.
  while (pool.evictSurplus());
  assert.equal(pool.idleCount(), 1);
  await pool.close();
});
