// One-shot traffic (title and tag requests, one-message calls: conversations that never get a second
// turn) does not push long conversations out of the idle memory budget: when it runs short, one-shot
// conversations go first, and the long conversations' next turns are still served live.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;
// About four CLI processes' worth (each holds ~200-250 MB): two long conversations, a spare, and
// less than the burst of one-shots beside them.
const BUDGET_MB = 1000;
before(async () => {
  h = await startHarness({ idleMemoryMb: BUDGET_MB, maxConcurrency: 6 }, { prewarm: ['sonnet'] });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

type Message = OpenAI.ChatCompletionMessageParam;
async function turn(messages: Message[], text: string, reply: string): Promise<void> {
  messages.push({ role: 'user', content: `${text} [[reply:${reply}]]` });
  const r = await client.chat.completions.create({ model: 'sonnet', messages });
  assert.equal(r.choices[0].message.content, reply);
  messages.push({ role: 'assistant', content: reply });
}

test('a burst of one-shot requests beside two long conversations leaves the long ones live', async () => {
  const e = h.gw.engine;
  const long: Message[][] = [[], []];
  for (const [i, m] of long.entries()) {
    await turn(m, `long ${i} turn 1`, `long ${i} answer 1`);
    await turn(m, `long ${i} turn 2`, `long ${i} answer 2`);
  }
  assert.equal(e.stats().conversations_live, 2);

  // The one-shots arrive later than the long conversations went idle: by age alone they would stay.
  const shots = Array.from({ length: 6 }, (_, i) => client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: `title ${i} [[reply:Title ${i}]]` }] }));
  (await Promise.all(shots)).forEach((r, i) => assert.equal(r.choices[0].message.content, `Title ${i}`));
  await until(() => e.stats().idle_memory_bytes <= e.stats().idle_memory_budget_bytes, 'the idle processes to fit the budget', 60_000);
  const s = e.stats();
  // The budget was short (the test means something) and only one-shots paid for it.
  assert.ok(s.conversations_evicted >= 1, JSON.stringify(s));
  assert.equal(s.conversations_evicted, s.conversations_evicted_one_shot);

  const before = { ...e.stats().conversation_paths };
  for (const [i, m] of long.entries()) await turn(m, `long ${i} turn 3`, `long ${i} answer 3`);
  const after = e.stats().conversation_paths;
  assert.equal(after.live - before.live, 2, 'both long conversations went on in their live processes');
  assert.equal(after.resumed, before.resumed);
});
