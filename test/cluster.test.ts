// Three `serve` replicas on one redis-server behind Debian's haproxy (round robin, readiness checks):
// one login made through the balancer is in force on every replica; a conversation's turns reach its
// live process wherever they land (the signed internal hop, which refuses anything not from a
// replica); a credential limited on one replica is skipped by the others. Faults: cluster-faults.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { until } from './support/harness.js';
import { authStatus, auth, client, converse, delta, ensureLogin, json, onEveryReplica, paths, startCluster, stats, TOKEN, TOKEN2, type TestCluster } from './support/cluster.js';
import http from 'node:http';
import { deriveKeys, HOP_HEADERS, signHop } from '../src/cluster/keys.js';
import { modelRequests } from './support/conversation.js';
import { credentialOf, unifiedRateLimitHeaders } from './support/fake-upstream.js';
import { TEST_SECRET } from './support/harness.js';

let c: TestCluster;
let replicas: TestCluster['replicas'];
let lb: TestCluster['lb'];
let upstream: TestCluster['upstream'];
let redis: TestCluster['redis'];
before(async () => {
  c = await startCluster();
  ({ replicas, lb, upstream, redis } = c);
});
after(async () => {
  await c?.stop();
});

test('one login through the balancer is in force on every replica; the login command and logout reach them all; the pool too', async () => {
  for (const r of replicas) assert.equal((await authStatus(r.url)).authenticated, false, `${r.name} starts without a login`);
  const pasted = await fetch(`${lb.url}/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) });
  assert.equal(pasted.status, 200, await pasted.clone().text());
  await onEveryReplica(replicas, 'the pasted token', (s) => s.authenticated && s.credential === '…aaaa');
  for (const r of replicas) {
    const res = await client(r.url).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: `[[reply:served by ${r.name}]]` }] });
    assert.equal(res.choices[0].message.content, `served by ${r.name}`);
  }
  assert.deepEqual([...new Set(modelRequests(upstream).map((q) => credentialOf(q.headers)))], [TOKEN], 'every replica used the shared token');

  // At rest in Redis: sealed, never the token in plain text.
  const { Redis } = await import('ioredis');
  const raw = new Redis(redis.url);
  const stored = await raw.get('ccg:cluster:doc:credentials');
  await raw.quit();
  assert.ok(stored && !stored.includes('sk-ant') && JSON.parse(stored).ct, 'encrypted at rest');

  // The terminal command, from another process, replaces it everywhere; logout through the balancer removes it everywhere.
  const cmd = await replicas[0].command(['login', '--token'], TOKEN2 + '\n');
  assert.equal(cmd.status, 0, cmd.stderr);
  await onEveryReplica(replicas, 'the token from `login --token`', (s) => s.authenticated && s.credential === '…bbbb');
  assert.equal((await fetch(`${lb.url}/auth/logout`, { method: 'POST', headers: json, body: '{}' })).status, 200);
  await onEveryReplica(replicas, 'logged out', (s) => !s.authenticated);
  assert.equal((await fetch(`${lb.url}/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) })).status, 200);
  await onEveryReplica(replicas, 'logged in again', (s) => s.authenticated && s.credential === '…aaaa');

  // A pool member added through one replica is on all; removed through another, gone from all.
  const added = await fetch(`${replicas[1].url}/auth/accounts`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'seat-2', token: TOKEN2, role: 'overflow' }) });
  assert.equal(added.status, 200, await added.clone().text());
  await onEveryReplica(replicas, 'seat-2 added', (s) => s.accounts.some((a: any) => a.name === 'seat-2' && a.credential === '…bbbb'));
  assert.equal((await fetch(`${replicas[2].url}/auth/accounts/seat-2`, { method: 'DELETE', headers: auth })).status, 200);
  await onEveryReplica(replicas, 'seat-2 removed', (s) => !s.accounts.some((a: any) => a.name === 'seat-2'));
});

test('the internal endpoint refuses anything not signed by a replica: unsigned, bad signature, expired, replayed; a client cannot choose a target', async () => {
  const r = replicas[0];
  const path = '/v1/chat/completions';
  const body = Buffer.from(JSON.stringify({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:hop]]' }] }));
  const send = (headers: Record<string, string>) => fetch(`${r.url}/_internal${path}`, { method: 'POST', headers: { ...json, ...headers }, body });
  const sigHeaders = (s: ReturnType<typeof signHop>) => ({ [HOP_HEADERS.from]: s.from, [HOP_HEADERS.time]: s.time, [HOP_HEADERS.nonce]: s.nonce, [HOP_HEADERS.signature]: s.signature });
  const code = async (res: Response) => [res.status, ((await res.json()) as any).error?.code];

  assert.deepEqual(await code(await send({})), [403, 'hop_unsigned']);
  assert.deepEqual(await code(await fetch(`${r.url}/_internal${path}`, { method: 'POST', headers: json, body })), [403, 'hop_unsigned'], 'the client key alone opens nothing');
  const wrongKey = signHop(deriveKeys('not-the-cluster-secret-0123456789abcdef').hop, 'intruder', 'POST', path, body);
  assert.deepEqual(await code(await send(sigHeaders(wrongKey))), [403, 'hop_bad_signature']);
  const old = signHop(deriveKeys(TEST_SECRET).hop, 'r9', 'POST', path, body, Date.now() - 120_000);
  assert.deepEqual(await code(await send(sigHeaders(old))), [403, 'hop_expired']);
  const good = signHop(deriveKeys(TEST_SECRET).hop, 'r9', 'POST', path, body);
  const first = await send(sigHeaders(good));
  assert.notEqual(first.status, 403, 'a signed hop is taken');
  await first.arrayBuffer();
  assert.deepEqual(await code(await send(sigHeaders(good))), [403, 'hop_replayed']);

  // Headers naming another target are ignored: the turn is served here, nothing reaches the address.
  let reached = 0;
  const decoy = http.createServer((_q, s) => (reached++, s.end('{}')));
  await new Promise<void>((res) => decoy.listen(0, '127.0.0.1', res));
  const decoyUrl = `http://127.0.0.1:${(decoy.address() as any).port}`;
  const res = await client(r.url).chat.completions.create(
    { model: 'sonnet', messages: [{ role: 'user', content: '[[reply:here]]' }] },
    { headers: { [HOP_HEADERS.from]: 'r9', 'x-forwarded-host': decoyUrl, forwarded: `host=${decoyUrl}`, 'x-ccg-hop-target': decoyUrl } },
  );
  assert.equal(res.choices[0].message.content, 'here');
  decoy.close();
  assert.equal(reached, 0);
});

test('a 20-turn conversation through round robin over 3 replicas is served live (forwarded to its owner)', async (t) => {
  await ensureLogin(c);
  await converse(lb.url, 'warm', 1);
  const before = await paths(replicas);
  const hopsBefore = (await Promise.all(replicas.map((r) => stats(r)))).reduce((n, s) => n + s.cluster.hops.forwarded, 0);
  await converse(lb.url, 'twenty', 20);
  const counted = delta(before, await paths(replicas));
  assert.equal(counted.new, 1, JSON.stringify(counted));
  assert.ok((counted.live ?? 0) >= 18, `turns 2..20 live: ${JSON.stringify(counted)}`);
  const hops = (await Promise.all(replicas.map((r) => stats(r)))).reduce((n, s) => n + s.cluster.hops.forwarded, 0) - hopsBefore;
  t.diagnostic(`paths of the 20 turns over all replicas: ${JSON.stringify(counted)}; forwarded to the owner: ${hops}`);
  assert.ok(hops >= 10, `round robin lands most turns elsewhere than their owner: ${hops} forwarded`);
});

test('a credential limited on one replica is skipped by the others until its reset', async () => {
  await ensureLogin(c);
  const reset = Math.floor(Date.now() / 1000) + 3600;
  upstream.credentials.set(TOKEN, { status: 429, headers: unifiedRateLimitHeaders({ status: 'rejected', fiveHour: { utilization: 1, resetsAt: reset } }) });
  const [a, b, c3] = replicas;
  const first = await client(a.url).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'limited?' }] }).catch((e) => e);
  assert.equal(first.status, 429);
  await onEveryReplica(replicas, 'the limit shared', (s) => s.accounts.find((m: any) => m.name === 'default')?.state === 'cooling_down');
  const sent = modelRequests(upstream).length;
  for (const r of [b, c3]) {
    const e = await client(r.url).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'skipped' }] }).catch((x) => x);
    assert.equal(e.status, 429);
    assert.equal(e.error.code, 'plan_limit_reached');
  }
  assert.equal(modelRequests(upstream).length, sent, 'no replica tried the limited credential again');
  upstream.credentials.delete(TOKEN);
});
