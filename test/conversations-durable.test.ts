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
import { filesIn, MIN_CACHEABLE, pathsOf, replica, ScriptedConversation, totalInput, type Replica } from './support/durable.js';
import { startHarness, until, type Harness } from './support/harness.js';
import { startRedis, type RedisServer } from './support/redis.js';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-durable-'));

/** Runs `body` with a shared upstream, closing every gateway it started (and the upstream) afterwards. */
async function withGateways(body: (ctx: { upstream: FakeUpstream; start: (name: string, overrides?: ConfigInput, dataDir?: string) => Promise<Replica> }) => Promise<void>) {
  const upstream = await startFakeUpstream();
  const started: Harness[] = [];
  try {
    await body({
      upstream,
      start: async (name, overrides = {}, dataDir) => {
        const h = await startHarness(overrides, { upstream, dataDir });
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
      assert.equal(t4.request.body.metadata?.user_id && JSON.parse(t4.request.body.metadata.user_id).session_id, JSON.parse(conv.turns[0].request.body.metadata.user_id).session_id);
    });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Two replicas on one redis-server; turns go to them in `order` (a string of A and B). */
async function replicated(order: string, overrides: ConfigInput, tag: string) {
  const redis = await startRedis();
  try {
    await withGateways(async ({ upstream, start }) => {
      const a = await start('A', { redisUrl: redis.url, ...overrides });
      const b = await start('B', { redisUrl: redis.url, ...overrides });
      const conv = new ScriptedConversation(upstream, tag);
      for (const c of order) await conv.turn(c === 'A' ? a : b);
      const paths = conv.turns.map((t) => t.path);
      // A turn is live only when the replica serving it served the turn before (its process holds
      // exactly this point); anything else resumes the shared session.
      const live = overrides.conversationIdleMs !== 0;
      const expected = [...order].map((c, i) => (i === 0 ? 'new' : live && order[i - 1] === c ? 'live' : 'resumed'));
      assert.deepEqual(paths, expected, `served by ${order}`);
      for (let n = 2; n <= order.length; n++) conv.assertExtendsPrevious(n);
      assert.ok(conv.turns.some((t) => totalInput(t.request) >= MIN_CACHEABLE), 'the conversation grew past the cache minimum');
      for (let n = 2; n <= order.length; n++) conv.assertCacheKept(n);
      const session = (i: number) => JSON.parse(conv.turns[i].request.body.metadata.user_id).session_id;
      assert.deepEqual(new Set(conv.turns.map((_, i) => session(i))).size, 1, 'one Claude Code session throughout');
      // What each replica holds afterwards: with live processes, each keeps one per turn it served
      // (the older ones at points the conversation has left, good only for a regenerate).
      if (live) {
        for (const r of [a, b]) {
          const served = conv.turns.filter((t) => t.replica === r.name).length;
          const runs = [...order].filter((c, i) => c === r.name && order[i + 1] !== c).length;
          assert.equal(r.h.gw.engine.stats().conversations_live, runs, `${r.name} served ${served} turns, keeps one live process per run of them`);
        }
      }
    });
  } finally {
    await redis.stop();
  }
}

test('two replicas on one Redis, turns alternating, no live processes: every turn resumed, same bytes, cache kept', () =>
  replicated('ABABABAB', { conversationIdleMs: 0 }, 'r0'));

test('two replicas on one Redis, turns alternating, live processes kept: a stale live process never serves the next turn', () =>
  replicated('ABABABAB', {}, 'rl'));

test('two replicas on one Redis, turns in pairs: the replica that served the last turn takes the next one live', () =>
  replicated('AABBAABB', {}, 'rp'));

test('a Redis outage: the next turns on either replica still answer from the real turns', async () => {
  const redis = await startRedis();
  let killed = false;
  try {
    await withGateways(async ({ upstream, start }) => {
      const a = await start('A', { redisUrl: redis.url });
      const b = await start('B', { redisUrl: redis.url });
      const conv = new ScriptedConversation(upstream, 'ro');
      await conv.turn(a);
      await conv.turn(b);
      assert.deepEqual(conv.turns.map((t) => t.path), ['new', 'resumed']);
      await redis.kill();
      killed = true;
      // Each replica now sees only its own embedded store: whatever the other recorded is out of
      // reach, so the turn is imported from the client's history (or live where this replica holds it).
      for (const r of [a, b, a, b, b, a]) await conv.turn(r);
      const after = conv.turns.slice(2).map((t) => `${t.replica}:${t.path}`);
      assert.ok(
        conv.turns.slice(2).every((t) => t.path === 'imported' || t.path === 'resumed' || t.path === 'live'),
        `paths during the outage: ${after.join(' ')}`,
      );
      // A turn that returns to the replica that served the previous one continues its live process.
      assert.equal(conv.turns[6].path, 'live', `paths during the outage: ${after.join(' ')}`);
      for (const r of [a, b]) assert.equal(pathsOf(r.h).flattened, 0, `${r.name} flattened nothing`);
    });
  } finally {
    if (!killed) await redis.stop();
  }
});

test('a damaged stored session is replaced by the client history: imported, real turns, and it goes on', async (t) => {
  await withGateways(async ({ upstream, start }) => {
    const g = await start('gateway', { conversationIdleMs: 0 });
    const sessionsDir = path.join(g.h.dataDir, 'conversations', 'sessions');
    const recordsDir = path.join(g.h.dataDir, 'conversations', 'records');

    /** Two turns of a new conversation; the transcript and point-record files they created. */
    const twoTurns = async (tag: string) => {
      const sessionsBefore = new Set(filesIn(sessionsDir));
      const recordsBefore = new Set(filesIn(recordsDir));
      const conv = new ScriptedConversation(upstream, tag);
      await conv.turn(g);
      await conv.turn(g);
      assert.deepEqual(conv.turns.map((x) => x.path), ['new', 'resumed']);
      const sessions = filesIn(sessionsDir).filter((f) => !sessionsBefore.has(f));
      const points = filesIn(recordsDir)
        .filter((f) => !recordsBefore.has(f))
        .filter((f) => {
          const v = JSON.parse(fs.readFileSync(f, 'utf8')).value;
          return v && typeof v === 'object' && 'sessionId' in v && 'leaf' in v;
        });
      assert.ok(sessions.length >= 1, 'the conversation has a stored transcript');
      assert.ok(points.length >= 1, 'the conversation has stored points');
      return { conv, sessions, points };
    };

    const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);
    const cases: { name: string; tag: string; damage: (s: { sessions: string[]; points: string[] }) => void; path: string }[] = [
      { name: 'transcript deleted', tag: 'dd', damage: ({ sessions }) => sessions.forEach((f) => fs.rmSync(f)), path: 'imported' },
      { name: 'transcript emptied', tag: 'de', damage: ({ sessions }) => sessions.forEach((f) => fs.truncateSync(f, 0)), path: 'imported' },
      {
        name: 'transcript overwritten with garbage lines',
        tag: 'dg',
        damage: ({ sessions }) => sessions.forEach((f) => fs.writeFileSync(f, lines(f).map((_, i) => `{garbage ${i}\u0000`).join('\n') + '\n')),
        path: 'imported',
      },
      {
        name: 'transcript cut short (its tail lost)',
        tag: 'dt',
        damage: ({ sessions }) => sessions.forEach((f) => fs.writeFileSync(f, lines(f).slice(0, Math.ceil(lines(f).length / 2)).join('\n') + '\n')),
        path: 'imported',
      },
      {
        name: 'transcript lost its head (the chain is broken)',
        tag: 'dh',
        damage: ({ sessions }) => sessions.forEach((f) => fs.writeFileSync(f, lines(f).slice(Math.ceil(lines(f).length / 3)).join('\n') + '\n')),
        path: 'imported',
      },
      { name: 'point records overwritten with garbage', tag: 'dp', damage: ({ points }) => points.forEach((f) => fs.writeFileSync(f, '{"value": {"sessi')), path: 'imported' },
      // A crash mid-append tears the last line: the entries before it still resume the session.
      { name: 'a torn last line', tag: 'dl', damage: ({ sessions }) => sessions.forEach((f) => fs.appendFileSync(f, '{"type":"user","uuid":"torn-')), path: 'resumed' },
    ];
    for (const c of cases) {
      await t.test(c.name, async () => {
        const stored = await twoTurns(c.tag);
        c.damage(stored);
        const t3 = await stored.conv.turn(g);
        assert.equal(t3.path, c.path);
        // The conversation goes on from wherever turn 3 left it.
        const t4 = await stored.conv.turn(g);
        assert.equal(t4.path, 'resumed');
        stored.conv.assertExtendsPrevious(4);
        stored.conv.assertCacheKept(4);
      });
    }
    await until(() => g.h.gw.engine.stats().turns_running === 0, 'no turn running');
    assert.equal(pathsOf(g.h).flattened, 0);
  });
});
