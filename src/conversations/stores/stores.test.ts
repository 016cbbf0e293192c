// One contract suite for every ConversationStore (LMDB, files, a real redis-server, Redis+LMDB), then what only
// Redis can show (records and concurrent appends across replicas), then FallbackStore through an outage.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startRedis, type RedisServer } from '../../../test/support/redis.js';
import { FallbackStore } from './fallback-store.js';
import { FileStore } from './file-store.js';
import { LmdbStore } from './lmdb-store.js';
import { openStore } from './open-store.js';
import { RedisStore, redactRedisUrl } from './redis-store.js';
import type { ConversationStore, SessionKey, SessionStoreEntry } from './store.js';

const silent = pino({ level: 'silent' });
const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-stores-'));
const session = (subpath?: string): SessionKey => ({ projectKey: 'p', sessionId: crypto.randomUUID(), subpath });
const entry = (type: string, uuid?: string): SessionStoreEntry => ({ type, ...(uuid ? { uuid } : {}), n: Math.random() });

/** Poll until check() holds; fails after limitMs. Synchronises on the observed state, not on time. */
async function eventually(check: () => Promise<boolean>, limitMs = 3_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function contract(name: string, open: () => Promise<ConversationStore>, opts: { dedupesByUuid: boolean }) {
  describe(`${name}: ConversationStore contract`, () => {
    let store: ConversationStore;
    before(async () => {
      store = await open();
    });
    after(() => store.close());

    it('returns null for a session never written', async () => {
      assert.equal(await store.load(session()), null);
    });

    it('loads entries in append order, entries without uuid kept as they are', async () => {
      const key = session();
      const a = entry('user', crypto.randomUUID());
      const title = { type: 'title', title: 'same' };
      const b = entry('assistant', crypto.randomUUID());
      await store.append(key, [a, title]);
      await store.append(key, [title, b]);
      await store.append(key, []);
      assert.deepEqual(await store.load(key), [a, title, title, b]);
    });

    it('keeps a subpath transcript apart from its session', async () => {
      const key = session();
      const sub = { ...key, subpath: 'subagents/agent-1' };
      await store.append(key, [entry('user', 'u-main')]);
      await store.append(sub, [entry('user', 'u-sub')]);
      assert.equal((await store.load(key))?.length, 1);
      assert.equal((await store.load(sub))?.length, 1);
    });

    // Only stores that dedupe are held to it (Redis; the file store appends as the SDK sends).
    if (opts.dedupesByUuid) it('treats uuid as an idempotency key', async () => {
      const key = session();
      const a = entry('user', 'u-1');
      const b = entry('assistant', 'u-2');
      await store.append(key, [a]);
      await store.append(key, [a, b]); // a retried batch
      await store.append(key, [a, b, a]);
      assert.deepEqual(await store.load(key), [a, b]);
    });

    it('deletes a transcript, and a deleted one can be written afresh', async () => {
      const key = session();
      const a = entry('user', 'u-1');
      await store.append(key, [a]);
      await store.delete?.(key);
      assert.equal(await store.load(key), null);
      await store.append(key, [a]);
      assert.deepEqual(await store.load(key), [a]);
    });

    it('puts, gets and deletes records', async () => {
      const k = crypto.randomUUID();
      assert.equal(await store.getRecord('point', k), undefined);
      await store.putRecord('point', k, { sessionId: 's', n: [1, 2] });
      assert.deepEqual(await store.getRecord('point', k), { sessionId: 's', n: [1, 2] });
      assert.equal(await store.getRecord('other-ns', k), undefined);
      await store.putRecord('point', k, 'replaced');
      assert.equal(await store.getRecord('point', k), 'replaced');
      await store.deleteRecord('point', k);
      assert.equal(await store.getRecord('point', k), undefined);
    });

    it('puts, gets, replaces and lists rows of a table, tables kept apart', async () => {
      const table = `keys-${crypto.randomUUID()}`;
      assert.equal(await store.getRow(table, 'h1'), undefined);
      assert.deepEqual(await store.readRows(table), {});
      await store.putRow(table, 'h1', { id: 'k1', revoked_at: null });
      await store.putRow(table, 'h2', { id: 'k2' });
      await store.putRow(table, 'h1', { id: 'k1', revoked_at: 'now' });
      assert.deepEqual(await store.getRow(table, 'h1'), { id: 'k1', revoked_at: 'now' });
      assert.deepEqual(await store.readRows(table), { h1: { id: 'k1', revoked_at: 'now' }, h2: { id: 'k2' } });
      assert.deepEqual(await store.readRows(`${table}-other`), {});
    });

    it('adds counters atomically per row and returns the row after the addition', async () => {
      const table = `usage-${crypto.randomUUID()}`;
      const row = 'key_1\tclaude|sonnet\topenai-chat'; // tabs and a '|' in a row name survive
      assert.deepEqual(await store.addCounters(table, row, { requests: 1, cost_usd: 0.1 }, 60_000), { requests: 1, cost_usd: 0.1 });
      await Promise.all(Array.from({ length: 20 }, () => store.addCounters(table, row, { requests: 1, cost_usd: 0.2 }, 60_000)));
      await store.addCounters(table, 'other', { tokens: 7 }, 60_000);
      const rows = await store.readCounters(table);
      assert.deepEqual(Object.keys(rows).sort(), [row, 'other'].sort());
      assert.equal(rows[row].requests, 21);
      assert.ok(Math.abs(rows[row].cost_usd - 4.1) < 1e-9);
      assert.deepEqual(rows.other, { tokens: 7 });
      assert.deepEqual(await store.readCounters(`${table}-none`), {});
    });

    it('expires a counter table ttl after its last change', async () => {
      const table = `rate-${crypto.randomUUID()}`;
      await store.addCounters(table, 'r', { requests: 1 }, 60);
      await eventually(async () => Object.keys(await store.readCounters(table)).length === 0);
      assert.deepEqual(await store.addCounters(table, 'r', { requests: 1 }, 60_000), { requests: 1 }, 'an expired table starts again from zero');
    });

    it('expires a record after its ttl', async () => {
      const k = crypto.randomUUID();
      await store.putRecord('point', k, 1, 60);
      await store.putRecord('point', `${k}-long`, 2, 60_000);
      await eventually(async () => (await store.getRecord('point', k)) === undefined);
      assert.equal(await store.getRecord('point', `${k}-long`), 2);
    });
  });
}

let server: RedisServer;
before(async () => {
  server = await startRedis();
});
after(() => server?.stop());

contract('LmdbStore', async () => new LmdbStore(tmpDir(), 60_000), { dedupesByUuid: false });
contract('FileStore', async () => new FileStore(tmpDir(), 60_000), { dedupesByUuid: false });
contract(
  'FallbackStore (Redis + LMDB)',
  async () => new FallbackStore(new RedisStore(server.url, { retentionMs: 60_000, prefix: `f${crypto.randomUUID()}:` }), new LmdbStore(tmpDir(), 60_000), silent),
  { dedupesByUuid: true },
);
contract('RedisStore', async () => new RedisStore(server.url, { retentionMs: 60_000, prefix: `t${crypto.randomUUID()}:` }), {
  dedupesByUuid: true,
});

describe('RedisStore across replicas', () => {
  let a: RedisStore;
  let b: RedisStore;
  before(() => {
    a = new RedisStore(server.url, { retentionMs: 60_000 });
    b = new RedisStore(server.url, { retentionMs: 60_000 });
  });
  after(() => Promise.all([a.close(), b.close()]));

  it('answers ping', async () => {
    assert.equal(await a.ping(), true);
  });

  it('does not duplicate entries two replicas append at once', async () => {
    const key = session();
    const batch = Array.from({ length: 50 }, (_, i) => entry('user', `u-${i}`));
    await Promise.all([a.append(key, batch), b.append(key, batch), a.append(key, batch.slice(10)), b.append(key, batch.slice(0, 5))]);
    assert.deepEqual(await b.load(key), batch);
  });

  it('shares records and transcripts; a prefix keeps gateways apart', async () => {
    const key = session();
    await a.append(key, [entry('user', 'u-1')]);
    await a.putRecord('point', 'k', { v: 1 });
    assert.equal((await b.load(key))?.length, 1);
    assert.deepEqual(await b.getRecord('point', 'k'), { v: 1 });
    const c = new RedisStore(server.url, { retentionMs: 60_000, prefix: 'elsewhere:' });
    try {
      assert.equal(await c.load(key), null);
    } finally {
      await c.close();
    }
  });

  it('counts exactly when two replicas add to one row at once', async () => {
    const table = `shared-${crypto.randomUUID()}`;
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).addCounters(table, 'key', { requests: 1, tokens: 3 }, 60_000)));
    assert.deepEqual((await a.readCounters(table)).key, { requests: 40, tokens: 120 });
  });

  it('never logs the password of its URL', () => {
    assert.equal(redactRedisUrl('redis://user:s3cret@host:6379/0'), 'redis://***:***@host:6379/0');
    assert.equal(redactRedisUrl('not a url'), '[unparseable redis url]');
  });
});

describe('FallbackStore through a Redis outage', () => {
  it('serves every call from the fallback once Redis is killed, and counts it', async () => {
    const own = await startRedis();
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    const redis = new RedisStore(own.url, { retentionMs: 60_000, log });
    const store = new FallbackStore(redis, new LmdbStore(tmpDir(), 60_000), log);
    assert.equal(store.kind, 'redis+lmdb');
    try {
      const before = session();
      await store.append(before, [entry('user', 'u-1')]);
      await store.putRecord('point', 'k0', 0);
      assert.equal(store.degraded, 0);

      await own.kill();
      await eventually(async () => !(await redis.ping()));

      const key = session();
      const a = entry('user', 'u-1');
      await store.append(key, [a]);
      assert.deepEqual(await store.load(key), [a]);
      assert.equal(await store.load(before), null); // its entries are in the Redis that is gone
      await store.putRecord('point', 'k1', { v: 1 });
      assert.deepEqual(await store.getRecord('point', 'k1'), { v: 1 });
      await store.deleteRecord('point', 'k1');
      assert.equal(await store.getRecord('point', 'k1'), undefined);
      await store.delete(key);
      assert.equal(await store.load(key), null);

      // Every call above.
      assert.equal(store.degraded, 9);
      const warned = lines.filter((l) => l.includes('using the fallback'));
      assert.equal(warned.length, 1, 'the outage is logged once, not per call');
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('rows: a write needs Redis (refused in an outage), reads come from the mirror every replica keeps', async () => {
    const own = await startRedis();
    const redis = new RedisStore(own.url, { retentionMs: 60_000, log: silent });
    const store = new FallbackStore(redis, new LmdbStore(tmpDir(), 60_000), silent);
    // Another replica's view of the same Redis, with its own disk.
    const otherDisk = new LmdbStore(tmpDir(), 60_000);
    const other = new FallbackStore(new RedisStore(own.url, { retentionMs: 60_000, log: silent }), otherDisk, silent);
    try {
      await store.putRow('appkeys', 'h1', { id: 'k1', revoked_at: null });
      assert.deepEqual(await other.getRow('appkeys', 'h1'), { id: 'k1', revoked_at: null }, 'seen through Redis');
      await eventually(async () => (await otherDisk.getRow('appkeys', 'h1')) !== undefined); // mirrored on read
      await store.putRow('appkeys', 'h1', { id: 'k1', revoked_at: 'now' });
      assert.deepEqual(await other.getRow('appkeys', 'h1'), { id: 'k1', revoked_at: 'now' }, 'a revocation counts at once on the other replica');

      await own.kill();
      await eventually(async () => !(await redis.ping()));
      await assert.rejects(store.putRow('appkeys', 'h2', { id: 'k2' }), 'no key is made or revoked where other replicas cannot see it');
      await eventually(async () => JSON.stringify(await otherDisk.getRow('appkeys', 'h1')) === JSON.stringify({ id: 'k1', revoked_at: 'now' }));
      assert.deepEqual(await other.getRow('appkeys', 'h1'), { id: 'k1', revoked_at: 'now' }, 'served from the mirror');
      assert.deepEqual(Object.keys(await other.readRows('appkeys')), ['h1']);
      // Counters go on, per replica, on disk.
      assert.deepEqual(await store.addCounters('rate', 'k1', { requests: 1 }, 60_000), { requests: 1 });
      assert.deepEqual((await store.readCounters('rate')).k1, { requests: 1 });
    } finally {
      await Promise.all([store.close(), other.close()]);
      await own.stop();
    }
  });

  it('counters: a read adds what the primary and the fallback counted (an outage\'s counts are not lost)', async () => {
    const primary = new FileStore(tmpDir(), 60_000);
    const fallback = new FileStore(tmpDir(), 60_000);
    const store = new FallbackStore(primary, fallback, silent);
    try {
      await fallback.addCounters('usage', 'row', { requests: 2, tokens: 10 }, 60_000); // counted during an outage
      assert.deepEqual(await store.addCounters('usage', 'row', { requests: 1, tokens: 5 }, 60_000), { requests: 3, tokens: 15 });
      await store.addCounters('usage', 'only-primary', { requests: 1 }, 60_000);
      assert.deepEqual(await store.readCounters('usage'), { row: { requests: 3, tokens: 15 }, 'only-primary': { requests: 1 } });
    } finally {
      await store.close();
    }
  });

  it('falls back at once when Redis is down from the start', async () => {
    const dead = await startRedis();
    await dead.stop(); // a port nothing listens on any more
    const dir = tmpDir();
    const store = openStore({ dataDir: dir, redisUrl: dead.url, retentionMs: 60_000, log: silent });
    try {
      assert.equal(store.kind, 'redis+lmdb');
      const started = Date.now();
      const key = session();
      await store.append(key, [entry('user', 'u-1')]);
      assert.equal((await store.load(key))?.length, 1);
      assert.ok(Date.now() - started < 1_500, 'no wait for a command timeout');
      assert.ok(fs.existsSync(path.join(dir, 'conversations', 'store.mdb')));
    } finally {
      await store.close();
    }
  });

  it('opens the embedded store alone without a Redis URL', async () => {
    const store = openStore({ dataDir: tmpDir(), retentionMs: 60_000, log: silent });
    assert.equal(store.kind, 'lmdb');
    await store.close();
  });
});
