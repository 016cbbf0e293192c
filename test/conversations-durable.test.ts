// Conversations outlive the process that served them: a gateway restarted on its data dir resumes
// them, replicas sharing one Redis continue each other's conversations (with or without live
// processes), a Redis outage degrades to per-replica storage without failing a request, and a
// damaged stored session is replaced by the client's own history. In every case the API receives
// exactly the conversation's real turns, and where the session resumes the bytes stay the same so
// the prompt cache is kept.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ConfigInput } from '../src/config/config.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { filesIn, MIN_CACHEABLE, pathsOf, replica, ScriptedConversation, sessionOf, totalInput, type Replica } from './support/durable.js';
import { startHarness, until, type Harness, type HarnessOptions } from './support/harness.js';
import { adminTools } from './support/admin.js';
import { FileStore } from '../src/conversations/stores/file-store.js';
import { startRedis } from './support/redis.js';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-durable-'));
/** The store before LMDB, on the same folder it used: files a test can damage by hand, or carry over. */
const onFiles = (dataDir: string) => new FileStore(path.join(dataDir, 'conversations'), 30 * 86_400_000);

/** Runs `body` with a shared upstream, closing every gateway it started (and the upstream) afterwards. */
async function withGateways(
  body: (ctx: { upstream: FakeUpstream; start: (name: string, overrides?: ConfigInput, dataDir?: string, store?: HarnessOptions['store']) => Promise<Replica> }) => Promise<void>,
) {
  const upstream = await startFakeUpstream();
  const started: Harness[] = [];
  try {
    await body({
      upstream,
      start: async (name, overrides = {}, dataDir, store) => {
        const h = await startHarness(overrides, { upstream, dataDir, store });
        started.push(h);
        return replica(name, h);
      },
    });
  } finally {
    await Promise.allSettled(started.map((h) => h.close()));
    await upstream.close();
  }
}

test('a gateway restarted on its data dir resumes the conversation: same bytes, prompt cache kept', async () => {
  const dataDir = tmpDir();
  try {
    await withGateways(async ({ upstream, start }) => {
      const conv = new ScriptedConversation(upstream, 'rs');
      const first = await start('gateway 1', {}, dataDir);
      for (let i = 1; i <= 3; i++) await conv.turn(first);
      assert.deepEqual(conv.turns.map((t) => t.path), ['new', 'live', 'live']);
      await first.h.close();

      const second = await start('gateway 2', {}, dataDir);
      const t4 = await conv.turn(second);
      assert.equal(t4.path, 'resumed');
      for (let n = 2; n <= 4; n++) conv.assertExtendsPrevious(n);
      // The precondition of the cache claim: turn 3's prompt was long enough to be written.
      assert.ok(totalInput(conv.turns[2].request) >= MIN_CACHEABLE, `turn 3 sent ${totalInput(conv.turns[2].request)} tokens`);
      for (let n = 2; n <= 4; n++) conv.assertCacheKept(n);
      // The resumed session is the same Claude Code session, not a copy.
      assert.equal(sessionOf(t4.request), sessionOf(conv.turns[0].request));
    });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

/**
 * Two replicas on one redis-server; turns go to them in `order` (a string of A and B). Each serves
 * what lands on it (no forwarding to the replica holding the live process: test/cluster.test.ts has
 * that), so the shared store itself is what carries the conversation across.
 */
async function replicated(order: string, overrides: ConfigInput, tag: string) {
  const redis = await startRedis();
  try {
    await withGateways(async ({ upstream, start }) => {
      const a = await start('A', { redisUrl: redis.url, forwardTurns: false, ...overrides });
      const b = await start('B', { redisUrl: redis.url, forwardTurns: false, ...overrides });
      const conv = new ScriptedConversation(upstream, tag);
      for (const c of order) await conv.turn(c === 'A' ? a : b);
      // A turn is live only when the replica serving it served the turn before (its process holds
      // exactly this point). A replica coming back after the other served holds a process at a
      // point the conversation has left: that one must not answer, the shared session resumes.
      const live = overrides.conversationIdleMs !== 0;
      const expected = [...order].map((c, i) => (i === 0 ? 'new' : live && order[i - 1] === c ? 'live' : 'resumed'));
      assert.deepEqual(conv.turns.map((t) => t.path), expected, `served by ${order}`);
      for (let n = 2; n <= order.length; n++) conv.assertExtendsPrevious(n);
      assert.ok(conv.turns.some((t) => totalInput(t.request) >= MIN_CACHEABLE), 'the conversation grew past the cache minimum');
      for (let n = 2; n <= order.length; n++) conv.assertCacheKept(n);
      assert.equal(new Set(conv.turns.map((x) => sessionOf(x.request))).size, 1, 'one Claude Code session throughout');
      for (const r of [a, b]) assert.equal(pathsOf(r.h).flattened, 0, `${r.name} flattened nothing`);
      // One live process per session: a replica that resumed the conversation stopped its process
      // at the point the conversation had left.
      for (const r of [a, b]) assert.ok(r.h.gw.engine.stats().conversations_live <= 1, `${r.name} keeps ${r.h.gw.engine.stats().conversations_live} live processes`);
    });
  } finally {
    await redis.stop();
  }
}

test('two replicas on one Redis, turns alternating, no live processes: every turn resumed, same bytes, cache kept', () =>
  replicated('ABABABAB', { conversationIdleMs: 0 }, 'r0'));

test('two replicas on one Redis, live processes kept: a stale live process never answers, the current one does', () =>
  replicated('ABAABBAB', {}, 'rl'));

test('a Redis outage: the next turns on either replica still answer from the real turns, with the same bytes', async () => {
  const redis = await startRedis();
  let killed = false;
  try {
    await withGateways(async ({ upstream, start }) => {
      // Each replica serves what lands on it (no forwarding): the stores are what this tests.
      const a = await start('A', { redisUrl: redis.url, forwardTurns: false });
      const b = await start('B', { redisUrl: redis.url, forwardTurns: false });
      const conv = new ScriptedConversation(upstream, 'ro');
      await conv.turn(a);
      await conv.turn(b);
      assert.deepEqual(conv.turns.map((x) => x.path), ['new', 'resumed']);
      await redis.kill();
      killed = true;
      // Each replica now reaches only its own embedded store: the point the other one recorded is
      // out of reach, so a turn is imported from the client's history, or live where this replica
      // served the turn before.
      for (const r of [a, b, a, b, b, a]) await conv.turn(r);
      assert.deepEqual(
        conv.turns.slice(2).map((x) => `${x.replica}:${x.path}`),
        ['A:imported', 'B:imported', 'A:imported', 'B:imported', 'B:live', 'A:imported'],
      );
      for (const r of [a, b]) assert.equal(pathsOf(r.h).flattened, 0, `${r.name} flattened nothing`);

      // B has not seen how a session of this model opens (that record is in the unreachable Redis,
      // and resuming never showed it one): it learns it from the CLI before its first import, so
      // every imported turn keeps the bytes the conversation was sent with, and the prompt cache.
      for (let n = 3; n <= conv.turns.length; n++) {
        conv.assertExtendsPrevious(n);
        conv.assertCacheKept(n);
      }
    });
  } finally {
    if (!killed) await redis.stop();
  }
});

test('a damaged stored session is replaced by the client history: imported, the real turns, and it goes on', async (t) => {
  await withGateways(async ({ upstream, start }) => {
    // On the FileStore, whose files can be damaged by hand (LMDB commits are atomic: none of this
    // can happen to it short of a broken disk); what is tested is how conversations take the damage.
    const g = await start('gateway', { conversationIdleMs: 0 }, undefined, onFiles);
    const sessionsDir = path.join(g.h.dataDir, 'conversations', 'sessions');
    const recordsDir = path.join(g.h.dataDir, 'conversations', 'records');
    const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);

    interface Stored {
      sessions: string[];
      points: string[];
    }
    const cases: { name: string; tag: string; before: number; damage: (s: Stored) => void; path: string }[] = [
      {
        name: 'transcript overwritten with garbage lines',
        tag: 'dg',
        before: 2,
        damage: ({ sessions }) => sessions.forEach((f) => fs.writeFileSync(f, lines(f).map((_, i) => `{garbage ${i}\u0000`).join('\n') + '\n')),
        path: 'imported',
      },
      { name: 'transcript deleted', tag: 'dd', before: 1, damage: ({ sessions }) => sessions.forEach((f) => fs.rmSync(f)), path: 'imported' },
      {
        name: 'transcript cut short (the point it reached is lost)',
        tag: 'dt',
        before: 1,
        damage: ({ sessions }) => sessions.forEach((f) => fs.writeFileSync(f, lines(f).slice(0, Math.ceil(lines(f).length / 2)).join('\n') + '\n')),
        path: 'imported',
      },
      {
        name: 'transcript without its first message (the chain is broken)',
        tag: 'dh',
        before: 1,
        damage: ({ sessions }) => sessions.forEach((f) => fs.writeFileSync(f, lines(f).filter((l) => JSON.parse(l).parentUuid !== null).join('\n') + '\n')),
        path: 'imported',
      },
      { name: 'point record overwritten with garbage', tag: 'dp', before: 1, damage: ({ points }) => points.forEach((f) => fs.writeFileSync(f, '{"value": {"sessi')), path: 'imported' },
      // A crash mid-append tears the last line: the entries before it still resume the session.
      { name: 'a torn last line', tag: 'dl', before: 1, damage: ({ sessions }) => sessions.forEach((f) => fs.appendFileSync(f, '{"type":"user","uuid":"torn-')), path: 'resumed' },
    ];
    for (const c of cases) {
      await t.test(c.name, async () => {
        const sessionsBefore = new Set(filesIn(sessionsDir));
        const recordsBefore = new Set(filesIn(recordsDir));
        const conv = new ScriptedConversation(upstream, c.tag);
        for (let i = 0; i < c.before; i++) await conv.turn(g);
        assert.deepEqual(conv.turns.map((x) => x.path), ['new', 'resumed'].slice(0, c.before));
        const sessions = filesIn(sessionsDir).filter((f) => !sessionsBefore.has(f));
        const points = filesIn(recordsDir).filter((f) => {
          if (recordsBefore.has(f)) return false;
          const v = JSON.parse(fs.readFileSync(f, 'utf8')).value;
          return !!v && typeof v === 'object' && 'sessionId' in v && 'leaf' in v;
        });
        assert.equal(sessions.length, 1, 'the conversation has one stored transcript');
        assert.equal(points.length, c.before, 'a stored point per turn');
        c.damage({ sessions, points });

        const damaged = await conv.turn(g);
        assert.equal(damaged.path, c.path);
        conv.assertExtendsPrevious(damaged.n);
        conv.assertCacheKept(damaged.n);
        if (c.before < 2) return;
        // The imported session is stored like any other: the conversation goes on from it.
        const next = await conv.turn(g);
        assert.equal(next.path, 'resumed');
        conv.assertExtendsPrevious(next.n);
        conv.assertCacheKept(next.n);
      });
    }
    assert.equal(pathsOf(g.h).flattened, 0);
  });
});

test('a data dir the FileStore wrote is carried into the LMDB store: the conversation resumes, app keys and usage intact', async () => {
  const dataDir = tmpDir();
  try {
    await withGateways(async ({ upstream, start }) => {
      const conv = new ScriptedConversation(upstream, 'mf');
      const before = await start('gateway on files', {}, dataDir, onFiles);
      const tools = adminTools(() => before.h);
      const app = await tools.createKey({ name: 'carried over', daily_tokens: 1_000_000 });
      await tools.openai(app.key).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hello [[reply:hi]]' }] });
      for (let i = 1; i <= 3; i++) await conv.turn(before);
      const keysBefore = (await tools.admin('GET', '/admin/keys')).json.data;
      const usageBefore = (await tools.admin('GET', '/admin/usage')).json.data;
      assert.equal(keysBefore.find((k: any) => k.id === app.id).usage.today.requests, 1);
      const files = path.join(dataDir, 'conversations');
      assert.ok(fs.existsSync(path.join(files, 'sessions')) && fs.existsSync(path.join(files, 'records')), 'written as files');
      await before.h.close();

      const after = await start('gateway on LMDB', {}, dataDir);
      const admin = adminTools(() => after.h);
      assert.deepEqual((await admin.admin('GET', '/admin/keys')).json.data, keysBefore, 'the app key and its usage, as they were');
      assert.deepEqual((await admin.admin('GET', '/admin/usage')).json.data, usageBefore);

      const t4 = await conv.turn(after);
      assert.equal(t4.path, 'resumed', 'the conversation goes on from its carried-over transcript');
      assert.equal(sessionOf(t4.request), sessionOf(conv.turns[0].request), 'the same Claude Code session');
      for (let n = 2; n <= 4; n++) conv.assertExtendsPrevious(n);
      conv.assertCacheKept(4);
      const t5 = await conv.turn(after);
      assert.equal(t5.path, 'live');
      await admin.openai(app.key).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'again [[reply:hi]]' }] });
      const keysAfter = (await admin.admin('GET', '/admin/keys')).json.data;
      assert.equal(keysAfter.find((k: any) => k.id === app.id).usage.today.requests, 2, 'the key works and counts on from where it was');
      await until(() => !fs.existsSync(path.join(files, 'sessions')) && !fs.existsSync(path.join(files, 'records')), 'the old folders moved and removed', 60_000);
      assert.ok(fs.existsSync(path.join(files, 'store.mdb')));
    });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
