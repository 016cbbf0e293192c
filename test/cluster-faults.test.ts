// Faults of a 3-replica cluster behind haproxy (support/cluster.ts): kill -9 of a replica loses no
// conversation and fails only its own streams; a rolling restart under steady load fails no request.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { until } from './support/harness.js';
import { client, converse, ensureLogin, startCluster, stats, type TestCluster } from './support/cluster.js';

let c: TestCluster;
let replicas: TestCluster['replicas'];
let lb: TestCluster['lb'];
let upstream: TestCluster['upstream'];
before(async () => {
  c = await startCluster();
  ({ replicas, lb, upstream } = c);
});
after(async () => {
  await c?.stop();
});

test('kill -9 of a replica: every conversation goes on (resumed elsewhere), only its own streams fail', async () => {
  await ensureLogin(c);
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
  await ensureLogin(c);
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

