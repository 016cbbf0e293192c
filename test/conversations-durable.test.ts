import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startFakeUpstream } from './support/fake-upstream.js';
import { answerText, modelRequests, turnsOf, turnText, withoutCacheControl } from './support/conversation.js';
import { startHarness, TEST_KEY } from './support/harness.js';

test('explore', async () => {
  const upstream = await startFakeUpstream();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-durable-'));
  const h1 = await startHarness({}, { upstream, dataDir });
  const chat = new OpenAI({ baseURL: h1.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  const messages: OpenAI.ChatCompletionMessageParam[] = [];
  for (let i = 1; i <= 3; i++) {
    messages.push({ role: 'user', content: turnText(i, 'x') });
    const r = await chat.chat.completions.create({ model: 'sonnet', messages });
    messages.push({ role: 'assistant', content: r.choices[0].message.content });
  }
  console.log(h1.gw.engine.stats().conversation_paths);
  await h1.close();
  const h2 = await startHarness({}, { upstream, dataDir });
  const chat2 = new OpenAI({ baseURL: h2.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  messages.push({ role: 'user', content: turnText(4, 'x') });
  const r = await chat2.chat.completions.create({ model: 'sonnet', messages });
  console.log(r.choices[0].message.content?.slice(0, 30), h2.gw.engine.stats().conversation_paths);
  const reqs = modelRequests(upstream);
  fs.writeFileSync('/tmp/explore/reqs.json', JSON.stringify(reqs.map((q) => ({ body: q.body, usage: q.usage })), null, 1));
  for (const q of reqs) console.log(JSON.stringify(q.usage), turnsOf(q).map((t) => t.role + ':' + t.text.slice(0, 20)).join(' | '));
  await h2.close();
  await upstream.close();
});
