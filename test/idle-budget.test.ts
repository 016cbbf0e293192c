// Idle CLI processes (live conversations and warm ones) share one memory budget: after a burst the
// idle set is back within it at once, least recently used conversations stopped first, and a
// conversation whose process was stopped still goes on (resumed from the store).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { modelRequests, turnsOf } from './support/conversation.js';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;
// About two CLI processes' worth (each holds ~200-250 MB).
const BUDGET_MB = 500;
before(async () => {
  h = await startHarness({ idleMemoryMb: BUDGET_MB, maxConcurrency: 6 }, { prewarm: ['sonnet'] });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

test('after a burst of six conversations the idle processes fit the memory budget, and every conversation goes on', async () => {
  const convs = Array.from({ length: 6 }, (_, i) => [{ role: 'user' as const, content: `burst ${i} [[reply:first ${i}]]` }]);
  const answers = await Promise.all(convs.map((messages) => client.chat.completions.create({ model: 'sonnet', messages })));
  answers.forEach((r, i) => assert.equal(r.choices[0].message.content, `first ${i}`));
  const e = h.gw.engine;
  assert.ok(e.stats().conversations_live < 6, `${e.stats().conversations_live} conversations kept live`);
  // The budget is enforced as each process goes idle and again by the sweep (every 10 s at most), which
  // catches idle processes whose memory grew after they were counted.
  await until(() => e.stats().idle_memory_bytes <= e.stats().idle_memory_budget_bytes, 'the idle processes to fit the budget', 30_000);
  // Stopped processes are gone, not just forgotten.
  await until(() => e.liveProcesses() <= e.stats().conversations_live + e.stats().cli_processes_warm, 'evicted processes to exit');
  // Each conversation goes on with its own history, live or resumed from the store.
  for (const [i, messages] of convs.entries()) {
    const next = [...messages, { role: 'assistant' as const, content: `first ${i}` }, { role: 'user' as const, content: `more ${i} [[reply:second ${i}]]` }];
    const r = await client.chat.completions.create({ model: 'sonnet', messages: next });
    assert.equal(r.choices[0].message.content, `second ${i}`);
    assert.deepEqual(turnsOf(modelRequests(h.upstream).at(-1)!).map((t) => t.text), next.map((m) => m.content));
  }
  const paths = e.stats().conversation_paths;
  assert.equal(paths.imported + paths.flattened, 0);
  assert.ok(paths.resumed >= 1, JSON.stringify(paths));
});
