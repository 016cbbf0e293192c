// What only the embedded LMDB store must show (the contract suite in stores.test.ts covers the rest):
// expiry by its index removes exactly what is due, a FileStore data dir moves in whole (on demand and
// in the background), and a kill -9 of a writing process loses nothing it acknowledged.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { FileStore } from './file-store.js';
import { LmdbStore } from './lmdb-store.js';

const made: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-lmdb-'));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const key = (sessionId: string = crypto.randomUUID()) => ({ projectKey: 'p', sessionId });

describe('LmdbStore expiry', () => {
  it('a sweep removes exactly what is due, and only that', async () => {
    const store = new LmdbStore(tmpDir(), 60_000, { sweepEveryMs: 3_600_000 });
    try {
      const due = Array.from({ length: 30 }, (_, i) => `due-${i}`);
      const kept = Array.from({ length: 30 }, (_, i) => `kept-${i}`);
      await Promise.all([...due.map((k) => store.putRecord('point', k, k, 1)), ...kept.map((k) => store.putRecord('point', k, k, 60_000))]);
      await store.addCounters('rate-due', 'r', { n: 1 }, 1);
      await store.addCounters('usage-kept', 'r', { n: 1 }, 60_000);
      await store.putRow('appkeys', 'h', { id: 'k' }); // rows never expire
      const s = key();
      await store.append(s, [{ type: 'user', uuid: 'u' }]); // retention: 60 s
      // A record rewritten with a long TTL is not due any more (its old index entry went with it).
      await store.putRecord('point', 'moved', 1, 1);
      await store.putRecord('point', 'moved', 2, 60_000);
      const until = Date.now() + 5;
      while (Date.now() <= until) await new Promise((r) => setImmediate(r));

      assert.equal(await store.sweep(), 31, '30 records and one counter table');
      for (const k of due) assert.equal(await store.getRecord('point', k), undefined);
      for (const k of kept) assert.equal(await store.getRecord('point', k), k);
      assert.equal(await store.getRecord('point', 'moved'), 2);
      assert.deepEqual(await store.readCounters('rate-due'), {});
      assert.deepEqual(await store.readCounters('usage-kept'), { r: { n: 1 } });
      assert.deepEqual(await store.getRow('appkeys', 'h'), { id: 'k' });
      assert.equal((await store.load(s))?.length, 1);
      assert.equal(await store.sweep(), 0, 'nothing left that is due');
    } finally {
      await store.close();
    }
  });

  it('a transcript expires its retention after its last append', async () => {
    const store = new LmdbStore(tmpDir(), 60_000, { sweepEveryMs: 3_600_000 });
    const realNow = Date.now;
    let ahead = 0;
    Date.now = () => realNow() + ahead; // the store's clock, moved on instead of waited for
    try {
      const s = key();
      await store.append(s, [{ type: 'user', uuid: 'a' }]);
      ahead = 30_000;
      await store.append(s, [{ type: 'assistant', uuid: 'b' }]);
      ahead = 80_000;
      assert.equal((await store.load(s))?.length, 2, 'kept: 50 s since its last append');
      ahead = 91_000;
      assert.equal(await store.load(s), null, 'expired: not served even before the sweep');
      assert.equal(await store.sweep(), 1);
      await store.append(s, [{ type: 'user', uuid: 'c' }]);
      assert.deepEqual(await store.load(s), [{ type: 'user', uuid: 'c' }], 'written afresh, without the expired chunks');
    } finally {
      Date.now = realNow;
      await store.close();
    }
  });
});

describe('LmdbStore migrating a FileStore data dir', () => {
  /** A data dir as today's FileStore leaves it: transcripts (one with a torn last line), records, keys, usage. */
  async function legacyDir(): Promise<{ dir: string; sessions: string[] }> {
    const dir = tmpDir();
    const files = new FileStore(dir, 60_000);
    const sessions: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = crypto.randomUUID();
      sessions.push(id);
      await files.append(key(id), [{ type: 'user', uuid: `${id}-1`, i }]);
      await files.append(key(id), [{ type: 'assistant', uuid: `${id}-2`, i }]);
      await files.putRecord('point', `p-${i}`, { sessionId: id, turns: 2 });
    }
    await files.putRecord('point', 'gone', 1, 1);
    await files.putRow('appkeys', 'hash-1', { id: 'key_1', name: 'ci', revoked_at: null });
    await files.addCounters('usage-2026-12-07', 'key_1\tsonnet', { requests: 3, input_tokens: 120 }, 60_000);
    await files.close();
    const torn = path.join(dir, 'sessions', fs.readdirSync(path.join(dir, 'sessions'))[0]);
    fs.appendFileSync(torn, '{"type":"user","uuid":"half'); // a crash mid-append
    fs.writeFileSync(path.join(dir, 'records', 'leftover.json.123.tmp'), '{"va');
    return { dir, sessions };
  }

  it('serves every conversation, key and count at once, moves the rest in the background, logs it, and removes the old folders', async () => {
    const { dir, sessions } = await legacyDir();
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const store = new LmdbStore(dir, 60_000, { log });
    try {
      // Keys and usage are there from the first call.
      assert.deepEqual(await store.getRow('appkeys', 'hash-1'), { id: 'key_1', name: 'ci', revoked_at: null });
      assert.deepEqual(await store.readCounters('usage-2026-12-07'), { 'key_1\tsonnet': { requests: 3, input_tokens: 120 } });
      // A conversation goes on: its point and transcript read, and appended to, whether moved yet or not.
      const last = sessions[sessions.length - 1];
      assert.deepEqual(await store.getRecord('point', `p-${sessions.length - 1}`), { sessionId: last, turns: 2 });
      await store.append(key(last), [{ type: 'user', uuid: `${last}-3` }]);
      assert.deepEqual((await store.load(key(last)))?.map((e) => e.uuid), [`${last}-1`, `${last}-2`, `${last}-3`]);

      const moved = () => lines.some((l) => l.includes('FileStore data moved into store.mdb'));
      while (!moved()) await new Promise((r) => setTimeout(r, 20));
      assert.ok(lines.some((l) => l.includes('moving FileStore data into store.mdb')));
      const summary = JSON.parse(lines.find((l) => l.includes('FileStore data moved'))!);
      assert.equal(summary.sessions, 40);
      assert.equal(summary.records, 40);
      assert.equal(summary.tables, 2);
      assert.equal(summary.expired, 1, 'the expired record is not carried over');
      for (const d of ['sessions', 'records', 'tables']) assert.equal(fs.existsSync(path.join(dir, d)), false, `${d}/ removed`);

      let entries = 0;
      for (const [i, id] of sessions.entries()) {
        const got = await store.load(key(id));
        assert.ok(got && got.length >= 2, `transcript ${i}`);
        entries += got.length;
        assert.deepEqual(await store.getRecord('point', `p-${i}`), { sessionId: id, turns: 2 });
      }
      assert.equal(entries, 81, 'two per transcript, one appended after the move, the torn line skipped');
      assert.equal(await store.getRecord('point', 'gone'), undefined);
    } finally {
      await store.close();
    }
    // Opened again: nothing left to move, everything still there.
    const again = new LmdbStore(dir, 60_000);
    try {
      assert.equal((await again.load(key(sessions[0])))?.length, 2);
    } finally {
      await again.close();
    }
  });
});

describe('LmdbStore and kill -9', () => {
  it('a process killed mid-burst leaves a store that opens and holds every write it acknowledged', async () => {
    const dir = tmpDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/store-writer.ts', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const records: string[] = [];
    const sessions = new Map<string, number>();
    let reader: LmdbStore | undefined;
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`writer exited early: ${code ?? signal}`)));
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const [kind, id, n] = line.split(' ');
        if (kind === 'r') records.push(id);
        if (kind === 's') sessions.set(id, Math.max(sessions.get(id) ?? 0, Number(n)));
        if (kind === 'ready') reader = new LmdbStore(dir, 3_600_000); // a second process on the same file, as `keys` beside a gateway
        if (records.length >= 300) {
          child.removeAllListeners('exit');
          resolve();
        }
      });
    });
    // lmdb settles its promises from a native thread whose handle does not hold the event loop open:
    // once the writer is gone nothing else would, and a pending close could be left unsettled.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      // Another process reads what the writer committed while it still runs.
      assert.ok(await reader!.getRecord('point', records[0]), 'seen by another process while written');
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      await reader!.close();

      const store = new LmdbStore(dir, 3_600_000);
      try {
        for (const k of records) assert.ok(await store.getRecord('point', k), `acknowledged record ${k}`);
        for (const [id, n] of sessions) {
          const got = (await store.load(key(id))) ?? [];
          const ns = got.map((e) => e.n as number);
          for (let i = 1; i <= n; i++) assert.ok(ns.includes(i), `acknowledged entry ${i} of ${id}`);
        }
        // And it takes writes again.
        await store.putRecord('point', 'after', 1);
        assert.equal(await store.getRecord('point', 'after'), 1);
      } finally {
        await store.close();
      }
    } finally {
      clearInterval(keepAlive);
    }
  });
});
