// What the model is told about its environment. The CLI adds an environment message (working
// directory, platform, shell, OS version) to every session; the gateway makes every CLI process,
// of every replica, run in one neutral directory (<tmp>/workspace-<uid>), so the message names no
// gateway path (its data dir, its CLI home) and is byte-identical across processes and gateways.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let a: Harness;
let b: Harness;

before(async () => {
  a = await startHarness({});
  // A second gateway (another replica: its own data dir) on the same scripted upstream.
  b = await startHarness({}, { upstream: a.upstream });
});
after(async () => {
  await b.close();
  await a.close();
});

/** The environment text of the model request that carried `tag`. */
function environmentFor(tag: string): string {
  const req = a.upstream.requests.find((r) => r.path === '/v1/messages' && JSON.stringify(r.body.messages ?? []).includes(tag));
  assert.ok(req, `a model request for ${tag}`);
  const texts = [JSON.stringify(req.body.system ?? ''), ...(req.body.messages as any[]).map((m) => JSON.stringify(m.content))];
  const env = texts.map((t) => JSON.parse(t)).flatMap((c: any) => (typeof c === 'string' ? [c] : (c ?? []).map((x: any) => x.text ?? ''))).find((t: string) => t.includes('# Environment'));
  assert.ok(env, 'an environment message reached the model');
  return env.slice(env.indexOf('# Environment'), env.indexOf('\n\n', env.indexOf('# Environment')));
}

test('the environment message names the neutral workspace and no gateway path, identical across processes and replicas', async () => {
  const ask = (h: Harness, tag: string) => new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 }).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: `${tag} [[reply:ok]]` }] });
  // Two conversations on gateway A (two CLI processes) and one on gateway B.
  await Promise.all([ask(a, 'env-a1'), ask(a, 'env-a2'), ask(b, 'env-b1')]);
  const envs = ['env-a1', 'env-a2', 'env-b1'].map(environmentFor);
  const workspace = path.join(os.tmpdir(), `workspace-${process.getuid?.() ?? 0}`);
  for (const env of envs) {
    assert.match(env, new RegExp(`Primary working directory: ${workspace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    assert.match(env, new RegExp(`Platform: ${process.platform}`));
    for (const p of [a.dataDir, b.dataDir, path.join(a.dataDir, 'home'), process.cwd()]) assert.ok(!env.includes(p), `the environment names ${p}:\n${env}`);
    assert.doesNotMatch(env, /ccg-test|claude-code-gateway|\/work\//);
    // What the CLI reads from the kernel (uname) and nothing can set: the OS and its release, never
    // the host's name (README, Security).
    assert.match(env, new RegExp(`\\n - OS Version: ${`${os.type()} ${os.release()}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\n|$)`));
    if (os.hostname().length > 7) assert.ok(!env.includes(os.hostname()), `the environment names the host ${os.hostname()}`);
  }
  assert.equal(envs[1], envs[0]);
  assert.equal(envs[2], envs[0]);
});
