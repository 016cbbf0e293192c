// With GATEWAY_REUSE_PROCESSES, a CLI process that finished a turn is cleared (/clear) and serves the
// next turn of the same shape; nothing of the earlier conversation reaches the next client's turn.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;
before(async () => {
  h = await startHarness({ reuseProcesses: true, warmPerProfile: 1 }, { prewarm: ['sonnet'] });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const ask = (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content }], ...extra });

test('sequential turns reuse processes and never see each other', async () => {
  await ask('[[reply:warm up]]');
  await until(() => h.gw.engine.pool.idleCount() >= 1, 'a process to come back to the pool');
  const spawnedBefore = h.gw.engine.spawned;
  for (let i = 0; i < 6; i++) {
    const r = await ask(`secret-${i} [[reply:answer ${i}]]`);
    assert.equal(r.choices[0].message.content, `answer ${i}`);
    await until(() => h.gw.engine.pool.idleCount() >= 1, 'the process to come back to the pool');
  }
  // Without reuse every turn starts one; with it, at most a couple while the pool settles.
  assert.ok(h.gw.engine.spawned - spawnedBefore < 4, `spawned ${h.gw.engine.spawned - spawnedBefore} processes for 6 turns`);

  const dump = await ask('[[dump]]');
  const seen = dump.choices[0].message.content!;
  assert.doesNotMatch(seen, /secret-\d|answer \d|warm up/);
  // Each turn's request to the upstream carries just one user turn: the earlier ones were cleared.
  const last = h.upstream.requests[h.upstream.requests.length - 1].body;
  assert.equal(last.messages.filter((m: any) => m.role === 'assistant').length, 0);
});

test('a turn cut short by a stop sequence is not reused', async () => {
  const e = h.gw.engine;
  await until(() => e.pool.idleCount() >= 1 && e.liveProcesses() === e.pool.idleCount(), 'only idle processes');
  const liveBefore = e.liveProcesses();
  const spawnedBefore = e.spawned;
  const r = await ask('[[reply:one two STOP three]]', { stop: ['STOP'] });
  assert.equal(r.choices[0].message.content, 'one two ');
  // Its process is killed, not returned to the pool (the pool may start a replacement).
  await until(() => e.liveProcesses() === liveBefore - 1 + (e.spawned - spawnedBefore), 'the cut-short process to exit');
  const again = await ask('[[reply:fresh]]');
  assert.equal(again.choices[0].message.content, 'fresh');
});
