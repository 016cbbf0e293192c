// Three `serve` replicas on one redis-server behind Debian's haproxy, for the cluster tests, and what
// those tests ask of them: the login on every replica, conversations through the balancer, paths served.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { startHaproxy, type Haproxy } from './haproxy.js';
import { TEST_KEY } from './harness.js';
import { startRedis, type RedisServer } from './redis.js';
import { startReplicas, stats, stopReplicas, type ServeReplica } from './replicas.js';

export const TOKEN = 'sk-ant-oat01-cluster-login-aaaaaaaaaaaaaaaaaaaaaaaa';
export const TOKEN2 = 'sk-ant-oat01-cluster-second-bbbbbbbbbbbbbbbbbbbbbbbb';

export interface TestCluster {
  redis: RedisServer;
  upstream: FakeUpstream;
  replicas: ServeReplica[];
  lb: Haproxy;
  stop(): Promise<void>;
}

/** Replicas without a login of their own (it comes from the shared store), a drain long enough for a loaded machine. */
export async function startCluster(): Promise<TestCluster> {
  const redis = await startRedis();
  const upstream = await startFakeUpstream();
  const replicas = await startReplicas(3, { redisUrl: redis.url, upstreamUrl: upstream.url, noUpstreamKey: true, env: { GATEWAY_DRAIN_DELAY_MS: '1500', GATEWAY_DRAIN_TIMEOUT_MS: '180000' } });
  const lb = await startHaproxy(replicas.map((r) => r.port));
  return {
    redis,
    upstream,
    replicas,
    lb,
    async stop() {
      await lb.stop();
      await stopReplicas(replicas);
      await upstream.close();
      await redis.stop();
    },
  };
}

export const auth = { authorization: `Bearer ${TEST_KEY}` };
export const json = { ...auth, 'content-type': 'application/json' };
export const authStatus = async (url: string): Promise<any> => (await fetch(`${url}/auth/status`, { headers: auth })).json();
export const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
/** Waits until every replica's status satisfies `cond` (a change reaches them by pub/sub, within seconds). */
export async function onEveryReplica(replicas: ServeReplica[], what: string, cond: (s: any) => boolean): Promise<void> {
  for (const r of replicas) {
    let last: any;
    const end = Date.now() + 20_000;
    while (!cond((last = await authStatus(r.url)))) {
      if (Date.now() > end) throw new Error(`${r.name}: ${what}: ${JSON.stringify(last).slice(0, 400)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}
export const paths = async (replicas: ServeReplica[]) => {
  const all = await Promise.all(replicas.map((r) => stats(r)));
  const sum: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.conversation_paths as Record<string, number>)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
};
export const delta = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]).filter(([, v]) => v));

/** The shared login (made by the first test; made here when a test runs alone). */
export async function ensureLogin(c: TestCluster): Promise<void> {
  if (!(await authStatus(c.lb.url)).authenticated) await fetch(`${c.lb.url}/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ token: TOKEN }) });
  await onEveryReplica(c.replicas, 'logged in', (s) => s.authenticated && s.credential === '…aaaa');
}

/** One conversation through the balancer: each turn's answer checked. */
export async function converse(url: string, tag: string, turns: number, messages: OpenAI.ChatCompletionMessageParam[] = []): Promise<OpenAI.ChatCompletionMessageParam[]> {
  for (let i = 0; i < turns; i++) {
    const n = messages.filter((m) => m.role === 'user').length + 1;
    messages.push({ role: 'user', content: `${tag} turn ${n} [[reply:${tag} answer ${n}]]` });
    const res = await client(url).chat.completions.create({ model: 'sonnet', messages });
    assert.equal(res.choices[0].message.content, `${tag} answer ${n}`);
    messages.push({ role: 'assistant', content: res.choices[0].message.content });
  }
  return messages;
}

export { stats };
