// A new conversation reaches the API exactly as from a freshly started Claude Code process: the
// first request of a conversation served by a spare (started beside other turns, at a lower CPU
// priority, after the gateway served other conversations) is byte for byte the request of a cold
// start, beyond the per-session ids. No process ever carries one conversation into another.
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { modelRequests } from './support/conversation.js';
import type { RecordedRequest } from './support/fake-upstream.js';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;
before(async () => {
  // No prewarm: the first request pays a cold start, the yardstick. Spares at their default priority.
  // Rewinding off: this proves the spares' bytes (test/rewind-one-shots.test.ts proves a rewound process's).
  h = await startHarness({ maxConcurrency: 4, spareNice: 10, rewindOneShots: false });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const QUESTION = 'the same first question [[reply:the same answer]]';
const ask = (messages: OpenAI.ChatCompletionMessageParam[]) => client.chat.completions.create({ model: 'sonnet', messages });

/** The request as the API sees it, with the session's own ids taken out (each conversation has its own). */
function normalised(r: RecordedRequest): string {
  const session = String(r.headers['x-claude-code-session-id']);
  assert.ok(session.length > 10, 'the CLI names its session');
  const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !['x-claude-code-session-id', 'host', 'connection'].includes(k)));
  return JSON.stringify({ headers, body: r.body }).split(session).join('<session>');
}

const firstRequestOf = async (messages: OpenAI.ChatCompletionMessageParam[]) => {
  const before = modelRequests(h.upstream).length;
  const r = await ask(messages);
  const sent = modelRequests(h.upstream).slice(before);
  assert.equal(sent.length, 1);
  return { answer: r.choices[0].message.content, request: sent[0] };
};

test('the first request of a new conversation is the same bytes from a cold start, a spare, and a spare after other conversations', async () => {
  const cold = await firstRequestOf([{ role: 'user', content: QUESTION }]);
  assert.equal(cold.answer, 'the same answer');
  assert.equal(h.gw.engine.pool.misses, 1, 'the first request started its own process');

  await until(() => h.gw.engine.pool.idleProcesses().some((p) => p.state === 'ready'), 'a spare to finish starting', 120_000);
  const taken = h.gw.engine.pool.idleProcesses().find((p) => p.state === 'ready')!;
  const spare = await firstRequestOf([{ role: 'user', content: QUESTION }]);
  assert.equal(h.gw.engine.pool.hits, 1, 'the second request took a started spare');
  // A taken spare runs its turn at the normal CPU priority (and stays live for its conversation).
  assert.ok(taken.alive);
  assert.equal(os.getPriority(taken.pid), 0);

  // Other conversations: one that goes on for a second turn, and one-shots side by side.
  const long: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'secret-one [[reply:first]]' }];
  long.push({ role: 'assistant', content: (await ask(long)).choices[0].message.content! }, { role: 'user', content: 'secret-two [[reply:second]]' });
  await ask(long);
  await Promise.all([1, 2, 3].map((i) => ask([{ role: 'user', content: `secret-shot-${i} [[reply:shot ${i}]]` }])));

  await until(() => h.gw.engine.pool.idleProcesses().some((p) => p.state === 'ready'), 'a spare to finish starting', 120_000);
  const later = await firstRequestOf([{ role: 'user', content: QUESTION }]);
  assert.doesNotMatch(JSON.stringify(later.request.body), /secret-|local-command|command-name/);
  assert.equal(normalised(spare.request), normalised(cold.request));
  assert.equal(normalised(later.request), normalised(cold.request));
  // Every process served one conversation: none was handed from one to another.
  assert.ok(h.gw.engine.spawned >= 7, `${h.gw.engine.spawned} processes for 7 conversations`);
});

test('while a turn runs, the spare started beside it yields the CPU to it', async () => {
  const e = h.gw.engine;
  const running = ask([{ role: 'user', content: '[[wait:4000]] [[reply:slow]]' }]);
  await until(() => e.limiter.running === 1, 'the turn to run', 60_000);
  const spare = () => e.pool.idleProcesses().find((p) => p.pid !== undefined && p.state === 'spawning');
  await until(() => !!spare() || e.limiter.running === 0, 'a spare starting beside the turn', 60_000);
  const starting = spare();
  assert.ok(starting, 'a replacement spare was starting while the turn ran');
  assert.equal(os.getPriority(starting.pid), 10);
  assert.equal((await running).choices[0].message.content, 'slow');
});
