// Tool results for a turn that is no longer live (issue 19, item 3): another gateway (as another
// replica, or this one after a restart) gets a history with tool calls and their results that it
// never served. It writes the history as a Claude Code transcript ending in the tool_result turn and
// resumes it; the CLI closes the interrupted turn with its own "No response requested." and the
// gateway's note to go on starts the next turn (the README, Conversations, says why the CLI allows no
// other shape). The bytes are compared with the live round's, recorded by the scripted upstream:
// the same up to and including the results, then exactly those two turns.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { after, before, test } from 'node:test';
import { RESULTS_PROMPT } from '../src/conversations/conversations.js';
import { modelRequests, withoutCacheControl } from './support/conversation.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { weatherTool } from './support/tools.js';

let up: FakeUpstream;
let live: Harness;
let other: Harness;
before(async () => {
  up = await startFakeUpstream();
  live = await startHarness({}, { upstream: up });
  other = await startHarness({}, { upstream: up });
});
after(async () => {
  await live?.close();
  await other?.close();
  await up?.close();
});

const paths = async (h: Harness) =>
  ((await (await fetch(`${h.gw.url}/stats`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { conversation_paths: Record<string, number> }).conversation_paths;

test("tool results the serving gateway never saw: the live round's bytes, then the CLI's close of the turn and the note to go on", async () => {
  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: weatherTool }];
  const a = new OpenAI({ baseURL: live.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  const b = new OpenAI({ baseURL: other.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Oslo? [[tool:get_weather:{"city":"Oslo"}]] [[after-tool:Oslo is]]' }];
  const first = await a.chat.completions.create({ model: 'sonnet', messages, tools });
  const call = first.choices[0].message.tool_calls![0];
  messages.push(first.choices[0].message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: 'snowing' });

  // The live round: the suspended turn goes on with the results.
  let n = modelRequests(up).length;
  const liveAnswer = await a.chat.completions.create({ model: 'sonnet', messages, tools });
  assert.equal(liveAnswer.choices[0].message.content, 'Oslo is snowing');
  const liveSent = modelRequests(up).slice(n);
  assert.equal(liveSent.length, 1);

  // The same results at a gateway that never ran the turn: imported.
  n = modelRequests(up).length;
  const imported = await b.chat.completions.create({ model: 'sonnet', messages, tools });
  assert.equal(imported.choices[0].message.content, 'Oslo is snowing');
  assert.equal((await paths(other)).imported, 1);
  const importSent = modelRequests(up).slice(n);
  assert.equal(importSent.length, 1, 'one API request');

  const liveMsgs = withoutCacheControl(liveSent[0].body.messages) as any[];
  const importMsgs = withoutCacheControl(importSent[0].body.messages) as any[];
  assert.deepEqual(liveMsgs.at(-1).content.map((b: any) => b.type), ['tool_result'], 'live: the results are the last user turn');
  assert.deepEqual(importMsgs.slice(0, liveMsgs.length), liveMsgs, 'imported: the same bytes up to and including the results');
  assert.deepEqual(
    importMsgs.slice(liveMsgs.length).map((m) => [m.role, m.content.map((b: any) => b.text)]),
    [
      ['assistant', ['No response requested.']],
      ['user', [RESULTS_PROMPT]],
    ],
    "then the CLI's close of the interrupted turn and the gateway's note, nothing else",
  );
  assert.equal(JSON.stringify(importSent[0].body.system), JSON.stringify(liveSent[0].body.system), 'the same system prompt');
  assert.equal(JSON.stringify(importSent[0].body.tools), JSON.stringify(liveSent[0].body.tools), 'the same tools');

  // The imported conversation goes on in its live process: exactly one request for the next turn.
  messages.push({ role: 'assistant', content: imported.choices[0].message.content }, { role: 'user', content: 'And tomorrow? [[reply:also snow]]' });
  n = modelRequests(up).length;
  const next = await b.chat.completions.create({ model: 'sonnet', messages, tools });
  assert.equal(next.choices[0].message.content, 'also snow');
  assert.equal(modelRequests(up).length - n, 1);
  assert.equal((await paths(other)).live, 1);
});
