// Usage through the real clients: every turn is booked under its key, model and dialect with exactly
// the usage the client was told (input, output, cache read and write tokens), streamed or not; the
// admin key's own traffic is booked as "admin"; /admin/usage answers in JSON and CSV; the books
// survive a restart on the same data dir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { dayOf } from '../src/admin/periods.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

interface Told {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}
const zero = (): Told => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
const add = (a: Told, b: Told): Told => ({ input: a.input + b.input, output: a.output + b.output, cacheRead: a.cacheRead + b.cacheRead, cacheWrite: a.cacheWrite + b.cacheWrite });

let h: Harness;
let dataDir: string;
let appKey: { id: string; key: string };
before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-usage-'));
  h = await startHarness({}, { dataDir, prewarm: ['sonnet'] });
  const res = await fetch(`${h.gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'usage, "quoted"' }) });
  appKey = (await res.json()) as { id: string; key: string };
});
after(async () => {
  await h?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function usage(query: string, key = TEST_KEY): Promise<Response> {
  return fetch(`${h.gw.url}/admin/usage?${query}`, { headers: { authorization: `Bearer ${key}` } });
}

// The usage each client was told, per dialect (a Anthropic client sees every count; the OpenAI
// dialects fold cache writes into the prompt total, so their input is derived from it).
const told: Record<string, Told> = { 'openai-chat': zero(), responses: zero(), anthropic: zero() };
const openaiTotals: number[] = [];
/** Long enough for the prompt cache (1024 tokens at least), so the second turn reads the first's. */
const SYSTEM = `You answer briefly. ${'Background fact number one is that the sky is blue. '.repeat(120)}`;

test('every turn in every dialect, streamed or not, is booked with exactly the usage its client was told', async () => {
  const chat = new OpenAI({ baseURL: h.baseURL, apiKey: appKey.key, maxRetries: 0 });
  const claude = new Anthropic({ baseURL: h.gw.url, apiKey: appKey.key, maxRetries: 0 });
  // A conversation of two turns per dialect: the second reads the first's prompt cache.
  const history: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'first [[reply:one two three]]' }];
  const r1 = await chat.chat.completions.create({ model: 'sonnet', messages: history });
  history.push(r1.choices[0].message, { role: 'user', content: 'second [[reply:four five]]' });
  const stream = await chat.chat.completions.create({ model: 'sonnet', messages: history, stream: true, stream_options: { include_usage: true } });
  let streamed: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) streamed = chunk.usage ?? streamed;
  for (const u of [r1.usage!, streamed!]) {
    const cacheRead = u.prompt_tokens_details?.cached_tokens ?? 0;
    openaiTotals.push(u.total_tokens);
    told['openai-chat'] = add(told['openai-chat'], { input: u.prompt_tokens - cacheRead, output: u.completion_tokens, cacheRead, cacheWrite: 0 });
  }

  const first = await chat.responses.create({ model: 'sonnet', instructions: SYSTEM, input: 'first [[reply:alpha beta]]' });
  const second = await chat.responses.create({ model: 'sonnet', instructions: SYSTEM, input: 'second [[reply:gamma]]', previous_response_id: first.id, stream: true });
  let completed: OpenAI.Responses.ResponseUsage | undefined;
  for await (const ev of second) if (ev.type === 'response.completed') completed = ev.response.usage ?? undefined;
  for (const u of [first.usage!, completed!]) {
    const cacheRead = u.input_tokens_details.cached_tokens;
    openaiTotals.push(u.total_tokens);
    told.responses = add(told.responses, { input: u.input_tokens - cacheRead, output: u.output_tokens, cacheRead, cacheWrite: 0 });
  }

  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'first [[reply:red green]]' }];
  const m1 = await claude.messages.create({ model: 'sonnet', max_tokens: 64, system: SYSTEM, messages });
  messages.push({ role: 'assistant', content: m1.content }, { role: 'user', content: 'second [[reply:blue]]' });
  const m2 = await claude.messages.stream({ model: 'sonnet', max_tokens: 64, system: SYSTEM, messages }).finalMessage();
  for (const m of [m1, m2]) {
    const u = m.usage;
    told.anthropic = add(told.anthropic, { input: u.input_tokens, output: u.output_tokens, cacheRead: u.cache_read_input_tokens ?? 0, cacheWrite: u.cache_creation_input_tokens ?? 0 });
  }
  assert.ok(told.anthropic.cacheRead > 0 && told.anthropic.cacheWrite > 0, `the conversation used the prompt cache: ${JSON.stringify(told.anthropic)}`);
  assert.ok(told['openai-chat'].cacheRead > 0, 'so did the chat one');

  await h.gw.admin.flush();
  const res = await usage(`key=${appKey.id}&by_dialect=1`);
  assert.equal(res.status, 200);
  const { data } = (await res.json()) as { data: any[] };
  const today = dayOf(Date.now());
  assert.equal(data.length, 3, JSON.stringify(data));
  for (const row of data) {
    assert.equal(row.day, today);
    assert.equal(row.key_id, appKey.id);
    assert.equal(row.key_name, 'usage, "quoted"');
    assert.match(row.model, /^claude-/);
    assert.equal(row.requests, 2);
    assert.equal(row.errors, 0);
    const t = told[row.dialect];
    assert.ok(t, row.dialect);
    // The OpenAI dialects report cache writes inside the prompt: compare what they can show.
    const booked = { input: row.input_tokens + (row.dialect === 'anthropic' ? 0 : row.cache_write_tokens), output: row.output_tokens, cacheRead: row.cache_read_tokens, cacheWrite: row.dialect === 'anthropic' ? row.cache_write_tokens : 0 };
    assert.deepEqual(booked, t, row.dialect);
    assert.ok(row.cost_usd > 0, 'the CLI\'s cost estimate');
    assert.ok(row.duration_ms_avg > 0 && row.ttft_ms_avg > 0 && row.ttft_ms_avg <= row.duration_ms_avg);
  }

  // What budgets count equals the total the OpenAI clients were told plus the Anthropic client's sum.
  const totals = await h.gw.admin.usage.totals(appKey.id, today);
  const anthropicTotal = told.anthropic.input + told.anthropic.output + told.anthropic.cacheRead + told.anthropic.cacheWrite;
  assert.equal(totals.tokens, openaiTotals.reduce((a, b) => a + b, 0) + anthropicTotal);
  assert.equal(totals.requests, 6);

  // The key list shows the same day's totals.
  const keys = (await (await fetch(`${h.gw.url}/admin/keys`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { data: any[] };
  const listed = keys.data.find((k) => k.id === appKey.id);
  assert.equal(listed.usage.today.requests, 6);
  assert.equal(listed.usage.today.output_tokens, data.reduce((n, r) => n + r.output_tokens, 0));
  assert.deepEqual(listed.usage.month, listed.usage.today);
});

test('the admin key\'s traffic is booked as "admin"; errors are counted; rows filter by model', async () => {
  const chat = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  await chat.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:from the admin]]' }] });
  await assert.rejects(chat.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[status:500]]' }] }));
  await h.gw.admin.flush();
  const { data } = (await (await usage('key=admin')).json()) as { data: any[] };
  assert.equal(data.length, 1, JSON.stringify(data));
  assert.equal(data[0].key_id, 'admin');
  assert.equal(data[0].key_name, 'admin');
  assert.match(data[0].model, /sonnet/);
  assert.equal(data[0].requests, 2);
  assert.equal(data[0].errors, 1);
  const byModel = (await (await usage(`model=${encodeURIComponent(data[0].model)}`)).json()) as { data: any[] };
  assert.deepEqual(byModel.data.map((r) => [r.key_id, r.model]).sort(), [['admin', data[0].model], [appKey.id, data[0].model]].sort());
  assert.deepEqual((await (await usage('model=no-such-model')).json()).data, []);
});

test('CSV: a header and one line per row, the same numbers as the JSON', async () => {
  const json = (await (await usage('')).json()) as { data: any[] };
  const res = await usage('format=csv');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
  const lines = (await res.text()).trimEnd().split('\r\n');
  assert.equal(lines[0], 'day,key_id,key_name,model,requests,errors,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd,ttft_ms_avg,duration_ms_avg');
  assert.equal(lines.length, json.data.length + 1);
  const appLine = lines.find((l) => l.includes(appKey.id))!;
  assert.ok(appLine.includes('"usage, ""quoted"""'), 'a name with a comma and quotes is quoted');
  const appRow = json.data.find((r) => r.key_id === appKey.id);
  assert.ok(appLine.endsWith(`,${appRow.requests},${appRow.errors},${appRow.input_tokens},${appRow.output_tokens},${appRow.cache_read_tokens},${appRow.cache_write_tokens},${appRow.cost_usd},${appRow.ttft_ms_avg},${appRow.duration_ms_avg}`), appLine);
});

test('usage and keys survive a restart on the same data dir', async () => {
  const before = (await (await usage('')).json()) as { data: any[] };
  await h.close();
  h = await startHarness({}, { dataDir });
  const afterRestart = (await (await usage('')).json()) as { data: any[] };
  assert.deepEqual(afterRestart.data, before.data);
  const chat = new OpenAI({ baseURL: h.baseURL, apiKey: appKey.key, maxRetries: 0 });
  const r = await chat.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:still here]]' }] });
  assert.equal(r.choices[0].message.content, 'still here', 'the app key still works');
});
