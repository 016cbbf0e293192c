// What Open WebUI sends to an OpenAI-compatible connection, through the openai SDK, against the gateway
// with the real CLI behind it. Open WebUI's image cannot be pulled here; the shapes below follow its
// source (backend/open_webui/routers/openai.py, routers/tasks.py, config.py): it lists /models with the
// connection's key, streams chats (with stream_options.include_usage when the model's "usage" capability
// is on), and asks for titles, tags and follow-ups with one user message holding a task prompt over
// the chat history (stream: false, titles with max_completion_tokens), then reads choices[0].message
// .content and parses the JSON object in it. It drops its own `metadata` field before sending.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;
let model: string;

before(async () => {
  h = await startHarness();
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

/** Open WebUI's rendering of {{MESSAGES:END:n}}: the last n messages as "ROLE: text" lines. */
const history = (messages: { role: string; content: string }[], n: number) =>
  messages
    .slice(-n)
    .map((m) => `${m.role.toUpperCase()}: ${m.content}`)
    .join('\n');

/** A task prompt in the structure of Open WebUI's default templates (task, guidelines, output, history). */
function taskPrompt(task: string, output: string, chat: string): string {
  return [
    '### Task:',
    task,
    '### Guidelines:',
    '- Write in the chat\'s primary language; default to English if multilingual.',
    '- Your entire response must consist solely of the JSON object, without any introductory or concluding text.',
    '### Output:',
    `JSON format: ${output}`,
    '### Chat History:',
    '<chat_history>',
    chat,
    '</chat_history>',
  ].join('\n');
}

/** What Open WebUI does with a task answer: the text from the first { to the last }, parsed. */
function parseTaskAnswer(content: string | null | undefined): any {
  const text = content ?? '';
  return JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1));
}

const chat = [
  { role: 'user', content: 'Plan three days in Lisbon [[reply:Day one: Alfama and the castle.]]' },
  { role: 'assistant', content: 'Day one: Alfama and the castle.' },
];

test('the model list has what Open WebUI shows: ids, object "model", owned_by', async () => {
  const page = await client.models.list();
  assert.ok(page.data.length > 0);
  for (const m of page.data) {
    assert.equal(typeof m.id, 'string');
    assert.equal(m.object, 'model');
    assert.equal(typeof m.owned_by, 'string');
  }
  const ids = page.data.map((m) => m.id);
  // docker-compose.yml points Open WebUI's task model (TASK_MODEL_EXTERNAL) at "haiku": it must be listed,
  // or Open WebUI silently falls back to the chat's model.
  assert.ok(ids.includes('haiku'), `haiku is listed: ${ids.join(', ')}`);
  model = ids.includes('sonnet') ? 'sonnet' : ids[0];
});

test('a streamed chat with stream_options.include_usage ends with a usage chunk and no choices', async () => {
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'system', content: 'You are a helpful travel planner.' }, ...(chat.slice(0, 1) as OpenAI.ChatCompletionMessageParam[])],
  });
  let text = '';
  let finish: string | null = null;
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, 'Day one: Alfama and the castle.');
  assert.equal(finish, 'stop');
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, [], 'the usage chunk carries no choices');
  assert.ok(last.usage && last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0);
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
  assert.ok(chunks.slice(0, -1).every((c) => !c.usage), 'only the last chunk has usage');
});

test('title generation: one task prompt, stream false, max_completion_tokens; the answer parses as Open WebUI parses it', async () => {
  const title = '🇵🇹 Lisbon Trip Plan';
  // The scripted upstream answers the prompt's last [[reply:...]] marker: here, what a model would answer.
  const content = `${taskPrompt('Generate a concise, 3-5 word title with an emoji summarizing the chat history.', '{ "title": "your concise title here" }', history(chat, 2))}\n[[reply:{ "title": "${title}" }]]`;
  const r = await client.chat.completions.create({ model: 'haiku', messages: [{ role: 'user', content }], stream: false, max_completion_tokens: 1000 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(parseTaskAnswer(r.choices[0].message.content).title, title);
  // The whole task prompt reached the model as the user's message.
  const sent = h.upstream.requests.filter((q) => q.path === '/v1/messages').at(-1)!;
  const userText = JSON.stringify(sent.body.messages);
  assert.ok(userText.includes('<chat_history>') && userText.includes('USER: Plan three days in Lisbon'), 'the chat history reached the model');
});

test('tags and follow-up generation answer with the JSON Open WebUI reads', async () => {
  const tags = await client.chat.completions.create({
    model: 'haiku',
    stream: false,
    messages: [{ role: 'user', content: `${taskPrompt('Generate 1-3 broad tags categorizing the main themes of the chat history, along with 1-3 more specific subtopic tags.', '{ "tags": ["tag1", "tag2", "tag3"] }', history(chat, 6))}\n[[reply:{ "tags": ["Travel", "Europe", "Lisbon"] }]]` }],
  });
  assert.deepEqual(parseTaskAnswer(tags.choices[0].message.content).tags, ['Travel', 'Europe', 'Lisbon']);

  const follow = await client.chat.completions.create({
    model: 'haiku',
    stream: false,
    messages: [{ role: 'user', content: `${taskPrompt('Suggest 3-5 relevant follow-up questions or prompts that the user might naturally ask next.', '{ "follow_ups": ["Question 1?", "Question 2?"] }', history(chat, 6))}\n[[reply:\`\`\`json\n{ "follow_ups": ["What about day two?", "Where to eat?"] }\n\`\`\`]]` }],
  });
  // A model may wrap the object in a code fence; Open WebUI's first-{-to-last-} read still finds it.
  assert.deepEqual(parseTaskAnswer(follow.choices[0].message.content).follow_ups, ['What about day two?', 'Where to eat?']);
});
