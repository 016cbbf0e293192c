// A new conversation may take the process of a finished one-shot conversation, rewound to before its
// first message (the CLI's rewind_conversation): no CLI start, and the API receives exactly the bytes
// a freshly started process sends, with no trace of the conversation that process served before.
// Both conversations go on afterwards with their own history only: the rewound one resumed from the
// store, the new one live in the process.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { modelRequests } from './support/conversation.js';
import type { RecordedRequest } from './support/fake-upstream.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;
before(async () => {
  // No spares: every new conversation after the first can only be served by rewinding (or a cold start).
  h = await startHarness({ warmProfiles: 0 });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

type Msg = OpenAI.ChatCompletionMessageParam;
const QUESTION = 'the same first question [[reply:the same answer]]';

/** The request as the API sees it, with the session's own ids taken out. */
function normalised(r: RecordedRequest): string {
  const session = String(r.headers['x-claude-code-session-id']);
  const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !['x-claude-code-session-id', 'host', 'connection'].includes(k)));
  return JSON.stringify({ headers, body: r.body }).split(session).join('<session>');
}

async function turn(messages: Msg[]) {
  const before = modelRequests(h.upstream).length;
  const r = await client.chat.completions.create({ model: 'sonnet', messages });
  const sent = modelRequests(h.upstream).slice(before);
  assert.equal(sent.length, 1);
  return { answer: r.choices[0].message.content!, request: sent[0] };
}

/** The conversation's own texts in a request, in order (without what the CLI adds: reminders, its environment). */
const texts = (r: RecordedRequest): string[] =>
  (r.body.messages as { content: string | { type: string; text?: string }[] }[])
    .flatMap((m) => (typeof m.content === 'string' ? [m.content] : m.content.filter((b) => b.type === 'text').map((b) => b.text ?? '')))
    .filter((t) => !t.startsWith('<system-reminder>') && !t.startsWith('# Environment'));

test('a rewound one-shot process serves a new conversation with a fresh start\'s bytes; both conversations go on with their own history', async () => {
  const stats = () => h.gw.engine.stats();
  // The gateway's start read the model list from a CLI process: count from here.
  const base = stats().cli_processes_started;
  const first = await turn([{ role: 'user', content: QUESTION }]);
  assert.equal(stats().cli_processes_started, base + 1);

  const other = await turn([{ role: 'user', content: 'secret-other [[reply:other answer]]' }]);
  assert.equal(other.answer, 'other answer');
  const again = await turn([{ role: 'user', content: QUESTION }]);
  assert.equal(again.answer, 'the same answer');
  // Three conversations, one CLI start: the second and third each took the finished one-shot's process back.
  assert.equal(stats().cli_processes_started, base + 1);
  assert.equal(stats().conversations_rewound, 2);
  assert.equal(normalised(again.request), normalised(first.request));
  assert.doesNotMatch(JSON.stringify(again.request.body), /secret-other|other answer|local-command|command-name/);

  // The rewound conversation's next turn resumes from the store, with its own history only.
  const resumedBefore = stats().conversation_paths.resumed;
  const otherNext = await turn([
    { role: 'user', content: 'secret-other [[reply:other answer]]' },
    { role: 'assistant', content: 'other answer' },
    { role: 'user', content: 'other goes on [[reply:other again]]' },
  ]);
  assert.equal(otherNext.answer, 'other again');
  assert.equal(stats().conversation_paths.resumed, resumedBefore + 1);
  assert.deepEqual(texts(otherNext.request), ['secret-other [[reply:other answer]]', 'other answer', 'other goes on [[reply:other again]]']);

  // The conversation that took the process is still live in it, beside the resumed one on the same session.
  const liveBefore = stats().conversation_paths.live;
  const againNext = await turn([
    { role: 'user', content: QUESTION },
    { role: 'assistant', content: 'the same answer' },
    { role: 'user', content: 'and then [[reply:then]]' },
  ]);
  assert.equal(againNext.answer, 'then');
  assert.equal(stats().conversation_paths.live, liveBefore + 1);
  assert.deepEqual(texts(againNext.request), [QUESTION, 'the same answer', 'and then [[reply:then]]']);
});

test('conversations with a second turn are never rewound for a new one', async () => {
  const stats = () => h.gw.engine.stats();
  const rewound = stats().conversations_rewound;
  const started = stats().cli_processes_started;
  // Every idle process here now holds a conversation with two turns (or is the resumed one): none may be taken.
  await turn([{ role: 'user', content: 'a brand new one [[reply:new]]' }]);
  assert.equal(stats().conversations_rewound, rewound);
  assert.equal(stats().cli_processes_started, started + 1);
});
