// Three `serve` replicas on one redis-server behind Debian's haproxy (round robin, readiness checks):
// one login made through the balancer is in force on every replica; a conversation's turns reach its
// live process wherever they land (the signed internal hop, which refuses anything not from a
// replica); kill -9 of a replica loses no conversation; a rolling restart under load fails no request;
// a credential limited on one replica is skipped by the others.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { deriveKeys, HOP_HEADERS, signHop } from '../src/cluster/keys.js';
import { modelRequests } from './support/conversation.js';
import { credentialOf, startFakeUpstream, unifiedRateLimitHeaders, type FakeUpstream } from './support/fake-upstream.js';
import { startHaproxy, type Haproxy } from './support/haproxy.js';
import { TEST_KEY, TEST_SECRET, until } from './support/harness.js';
import { startRedis, type RedisServer } from './support/redis.js';
import { startReplicas, stats, stopReplicas, type ServeReplica } from './support/replicas.js';

const TOKEN = 'sk-ant-oat01-cluster-login-aaaaaaaaaaaaaaaaaaaaaaaa';
const TOKEN2 = 'sk-ant-oat01-cluster-second-bbbbbbbbbbbbbbbbbbbbbbbb';

let redis: RedisServer;
let upstream: FakeUpstream;
let replicas: ServeReplica[];
let lb: Haproxy;

before(async () => {
  redis = await startRedis();
  upstream = await startFakeUpstream();
  replicas = await startReplicas(3, { redisUrl: redis.url, upstreamUrl: upstream.url, noUpstreamKey: true, env: { GATEWAY_DRAIN_DELAY_MS: '1500', GATEWAY_DRAIN_TIMEOUT_MS: '180000' } });
  lb = await startHaproxy(replicas.map((r) => r.port));
});
after(async () => {
  await lb?.stop();
  if (replicas) await stopReplicas(replicas);
  await upstream?.close();
  await redis?.stop();
});

const auth = { authorization: `Bearer ${TEST_KEY}` };
const json = { ...auth, 'content-type': 'application/json' };
const authStatus = async (url: string): Promise<any> => (await fetch(`${url}/auth/status`, { headers: auth })).json();
const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
/** Waits until every replica's status satisfies `cond` (a change reaches them by pub/sub, within seconds). */
async function onEveryReplica(what: string, cond: (s: any) => boolean): Promise<void> {
  for (const r of replicas) {
    let last: any;
    const end = Date.now() + 20_000;
    while (!cond((last = await authStatus(r.url)))) {
      if (Date.now() > end) throw new Error(`${r.name}: ${what}: ${JSON.stringify(last).slice(0, 400)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}
const paths = async () => {
  const all = await Promise.all(replicas.map((r) => stats(r)));
  const sum: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.conversation_paths as Record<string, number>)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
};
const delta = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]).filter(([, v]) => v));

test('one login through the balancer is in force on every replica; the login command and logout reach them all; the pool too', async () => {
  for (const r of replicas) assert.equal((await authStatus(r.url)).authenticated, false, `${r.name} starts without a login`);
  const pasted = await fetch(`${lb.url}/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) });
  assert.equal(pasted.status, 200, await pasted.clone().text());
  await onEveryReplica('the pasted token', (s) => s.authenticated && s.credential === '…aaaa');
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
  await onEveryReplica('the token from `login --token`', (s) => s.authenticated && s.credential === '…bbbb');
  assert.equal((await fetch(`${lb.url}/auth/logout`, { method: 'POST', headers: json, body: '{}' })).status, 200);
  await onEveryReplica('logged out', (s) => !s.authenticated);
  assert.equal((await fetch(`${lb.url}/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) })).status, 200);
  await onEveryReplica('logged in again', (s) => s.authenticated && s.credential === '…aaaa');

  // A pool member added through one replica is on all; removed through another, gone from all.
  const added = await fetch(`${replicas[1].url}/auth/accounts`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'seat-2', token: TOKEN2, role: 'overflow' }) });
  assert.equal(added.status, 200, await added.clone().text());
  await onEveryReplica('seat-2 added', (s) => s.accounts.some((a: any) => a.name === 'seat-2' && a.credential === '…bbbb'));
  assert.equal((await fetch(`${replicas[2].url}/auth/accounts/seat-2`, { method: 'DELETE', headers: auth })).status, 200);
  await onEveryReplica('seat-2 removed', (s) => !s.accounts.some((a: any) => a.name === 'seat-2'));
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

/** The shared login (made by the first test; made here when a test runs alone). */
async function ensureLogin(): Promise<void> {
  if (!(await authStatus(lb.url)).authenticated) await fetch(`${lb.url}/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) });
  await onEveryReplica('logged in', (s) => s.authenticated && s.credential === '…aaaa');
}

/** One conversation through the balancer: each turn's answer checked. */
async function converse(url: string, tag: string, turns: number, messages: OpenAI.ChatCompletionMessageParam[] = []): Promise<OpenAI.ChatCompletionMessageParam[]> {
  for (let i = 0; i < turns; i++) {
    const n = messages.filter((m) => m.role === 'user').length + 1;
    messages.push({ role: 'user', content: `${tag} turn ${n} [[reply:${tag} answer ${n}]]` });
    const res = await client(url).chat.completions.create({ model: 'sonnet', messages });
    assert.equal(res.choices[0].message.content, `${tag} answer ${n}`);
    messages.push({ role: 'assistant', content: res.choices[0].message.content });
  }
  return messages;
}

test('a 20-turn conversation through round robin over 3 replicas is served live (forwarded to its owner)', async (t) => {
  await ensureLogin();
  await converse(lb.url, 'warm', 1);
  const before = await paths();
  const hopsBefore = (await Promise.all(replicas.map((r) => stats(r)))).reduce((n, s) => n + s.cluster.hops.forwarded, 0);
  await converse(lb.url, 'twenty', 20);
  const counted = delta(before, await paths());
  assert.equal(counted.new, 1, JSON.stringify(counted));
  assert.ok((counted.live ?? 0) >= 18, `turns 2..20 live: ${JSON.stringify(counted)}`);
  const hops = (await Promise.all(replicas.map((r) => stats(r)))).reduce((n, s) => n + s.cluster.hops.forwarded, 0) - hopsBefore;
  t.diagnostic(`paths of the 20 turns over all replicas: ${JSON.stringify(counted)}; forwarded to the owner: ${hops}`);
  assert.ok(hops >= 10, `round robin lands most turns elsewhere than their owner: ${hops} forwarded`);
});

test('kill -9 of a replica: every conversation goes on (resumed elsewhere), only its own streams fail', async () => {
  await ensureLogin();
  const convs = await Promise.all(['k1', 'k2', 'k3', 'k4'].map((t) => converse(lb.url, t, 2)));
  const victim = replicas[1];
  // A stream the victim is sending, and one a survivor is sending, at the moment of the kill.
  const slow = (url: string, tag: string) =>
    client(url).chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: `[[slow:3000]][[reply:${tag}]]` }] }).then(async (s) => {
      let text = '';
      for await (const ch of s) text += ch.choices[0]?.delta?.content ?? '';
      return text;
    });
  const onVictim = slow(victim.url, 'cut').then(() => 'completed', () => 'failed');
  const onSurvivor = slow(replicas[0].url, 'whole');
  await until(() => upstream.requests.filter((q) => JSON.stringify(q.body).includes('[[slow:3000]]')).length >= 2, 'both streams under way', 60_000);
  await victim.kill();
  assert.equal(await onVictim, 'failed');
  assert.equal(await onSurvivor, 'whole');
  const before = await Promise.all([replicas[0], replicas[2]].map((r) => stats(r)));
  for (const [i, m] of convs.entries()) await converse(lb.url, `k${i + 1}`, 1, m);
  const after = await Promise.all([replicas[0], replicas[2]].map((r) => stats(r)));
  const served = after.reduce((n, s, i) => n + s.conversation_paths.live + s.conversation_paths.resumed - before[i].conversation_paths.live - before[i].conversation_paths.resumed, 0);
  assert.equal(served, 4, 'each conversation continued from its session (live or resumed), none rebuilt');
  await victim.start();
});

test('a rolling restart of every replica under steady load fails no request', async (t) => {
  await ensureLogin();
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const worker = async (w: number) => {
    let messages: OpenAI.ChatCompletionMessageParam[] = [];
    for (let i = 0; !stop; i++) {
      try {
        if (i % 4 === 0) messages = [];
        messages = await converse(lb.url, `w${w}`, 1, messages);
        ok++;
        if (process.env.TEST_PROGRESS) process.stderr.write(`ok ${ok}\n`);
      } catch (e) {
        failures.push(String((e as Error).message));
        messages = [];
      }
    }
  };
  const load = [0, 1, 2].map(worker);
  try {
    await until(() => ok >= 3, `load running (${failures.join('; ')})`, 120_000);
    for (const r of replicas) {
      if (process.env.TEST_PROGRESS) process.stderr.write(`stopping ${r.name}\n`);
      assert.equal(await r.stop(), 0, `${r.name} drained and exited 0`);
      if (process.env.TEST_PROGRESS) process.stderr.write(`restarting ${r.name}\n`);
      await r.start();
      // It listens and is ready (start() waits for that); the load goes on before the next one stops.
      const served = ok;
      await until(() => ok > served, `requests served after ${r.name} came back (${failures.join('; ')})`, 300_000);
    }
  } finally {
    stop = true;
    await Promise.all(load);
  }
  t.diagnostic(`rolling restart: ${ok} requests succeeded, ${failures.length} failed`);
  assert.deepEqual(failures, [], `failed requests during the rolling restart (${ok} succeeded)`);
  assert.ok(ok >= 9);
});

test('a credential limited on one replica is skipped by the others until its reset', async () => {
  await ensureLogin();
  const reset = Math.floor(Date.now() / 1000) + 3600;
  upstream.credentials.set(TOKEN, { status: 429, headers: unifiedRateLimitHeaders({ status: 'rejected', fiveHour: { utilization: 1, resetsAt: reset } }) });
  const [a, b, c] = replicas;
  const first = await client(a.url).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'limited?' }] }).catch((e) => e);
  assert.equal(first.status, 429);
  await onEveryReplica('the limit shared', (s) => s.accounts.find((m: any) => m.name === 'default')?.state === 'cooling_down');
  const sent = modelRequests(upstream).length;
  for (const r of [b, c]) {
    const e = await client(r.url).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'skipped' }] }).catch((x) => x);
    assert.equal(e.status, 429);
    assert.equal(e.error.code, 'plan_limit_reached');
  }
  assert.equal(modelRequests(upstream).length, sent, 'no replica tried the limited credential again');
  upstream.credentials.delete(TOKEN);
});
