// /metrics after known traffic through the real clients (openai, @anthropic-ai/sdk), the real gateway
// and the real CLI against the scripted upstream: the Prometheus text is parsed and every counter is
// checked against what the clients were told. A cold burst is counted as warm-pool misses (a process
// taken while still starting is not a hit), in /metrics and /stats alike. (Who may scrape:
// metrics-access.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { parseProm, total, typeOf, type Sample } from './support/prom.js';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';

let h: Harness;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  // No warm process at start: the first requests find the pool empty.
  h = await startHarness({}, { prewarm: [] });
  openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h?.close());

async function scrape(key = TEST_KEY): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${h.gw.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseProm(text) };
}

const ask = (text: string) => openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: text }] });

describe('warm pool', () => {
  test('a cold burst is counted as misses, a process that finished starting as a hit', async () => {
    // Three new conversations at once on an empty pool: the first starts its own process, the
    // others take the replacements the pool started for them while those are still starting.
    const burst = await Promise.all([1, 2, 3].map((i) => ask(`burst ${i} [[reply:ok ${i}]]`)));
    assert.deepEqual(burst.map((r) => r.choices[0].message.content), ['ok 1', 'ok 2', 'ok 3']);
    let { samples } = await scrape();
    assert.equal(total(samples, 'ccg_warm_pool_takes_total', { outcome: 'hit' }), 0);
    assert.equal(total(samples, 'ccg_warm_pool_takes_total', { outcome: 'cold' }), 1);
    assert.equal(total(samples, 'ccg_warm_pool_takes_total', { outcome: 'starting' }), 2);
    let stats = h.gw.engine.stats();
    assert.equal(stats.warm_pool_hits, 0);
    assert.equal(stats.warm_pool_misses, 3);
    assert.equal(stats.warm_pool_taken_starting, 2);

    // Once the pool's replacement has finished starting (the gauge says so), the next one is a hit.
    await until(() => h.gw.engine.processStates().warm >= 1, 'a warm process', 30_000);
    ({ samples } = await scrape());
    assert.ok(total(samples, 'ccg_cli_processes', { state: 'warm' }) >= 1);
    await ask('after [[reply:warm]]');
    ({ samples } = await scrape());
    assert.equal(total(samples, 'ccg_warm_pool_takes_total', { outcome: 'hit' }), 1);
    stats = h.gw.engine.stats();
    assert.equal(stats.warm_pool_hits, 1);
    assert.equal(stats.warm_pool_misses, 3);
  });
});

describe('known traffic', () => {
  test('requests, turns, tokens, paths, histograms and errors equal what the clients got', async () => {
    const before = (await scrape()).samples;
    const delta = (after: Sample[], name: string, match: Record<string, string> = {}) => total(after, name, match) - total(before, name, match);

    // 1. Chat Completions, whole; 2. its next turn (the conversation's live process, which reads
    // the prompt cache: the opening is long enough to be cached); 3. streamed.
    const opening = `${'Some words to make the prompt worth caching. '.repeat(150)}[[reply:one two three]]`;
    const first = await ask(opening);
    const second = await openai.chat.completions.create({
      model: 'sonnet',
      messages: [
        { role: 'user', content: opening },
        { role: 'assistant', content: first.choices[0].message.content },
        { role: 'user', content: 'Again [[reply:four five]]' },
      ],
    });
    const stream = await openai.chat.completions.create({ model: 'sonnet', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Stream [[reply:a b c d]]' }] });
    let streamedUsage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) streamedUsage = chunk.usage;
    // Claude Code's cost estimate, as the chat clients were told it.
    const chat = [first.usage!, second.usage!, streamedUsage!];
    const chatCost = chat.reduce((a, u) => a + (u as { cost_usd?: number }).cost_usd!, 0);
    const mid = (await scrape()).samples;
    assert.ok(chatCost > 0);
    assert.ok(Math.abs(delta(mid, 'ccg_cost_usd_total', { key: 'admin' }) - chatCost) < 1e-9, 'the cost counted is the cost the clients were told');
    // 4. Anthropic Messages.
    const msg = await anthropic.messages.create({ model: 'sonnet', max_tokens: 100, messages: [{ role: 'user', content: 'Hi [[reply:from anthropic]]' }] });
    // 5. An upstream failure: overloaded (503).
    await assert.rejects(ask('fail [[status:529]]'), (e: any) => e.status === 503);
    // 6. A request refused before any turn: an unknown model.
    await assert.rejects(openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 404);

    const { text, samples } = await scrape();
    const model = first.model;
    assert.equal(typeOf(text, 'ccg_requests_total'), 'counter');
    assert.equal(typeOf(text, 'ccg_time_to_first_token_seconds'), 'histogram');
    assert.equal(typeOf(text, 'ccg_cli_processes'), 'gauge');

    // Requests by route, model, status and key.
    assert.equal(delta(samples, 'ccg_requests_total', { route: '/v1/chat/completions', model, status: '200', key: 'admin' }), 3);
    assert.equal(delta(samples, 'ccg_requests_total', { route: '/v1/messages', model, status: '200', key: 'admin' }), 1);
    assert.equal(delta(samples, 'ccg_requests_total', { route: '/v1/chat/completions', model, status: '503', key: 'admin' }), 1);
    assert.equal(delta(samples, 'ccg_requests_total', { route: '/v1/chat/completions', model: 'none', status: '404', key: 'admin' }), 1);

    // Turns by path and outcome; the histograms count each turn once.
    assert.equal(delta(samples, 'ccg_turns_total', { model, outcome: 'end_turn' }), 4);
    assert.equal(delta(samples, 'ccg_turns_total', { model, outcome: 'error' }), 1);
    assert.equal(delta(samples, 'ccg_conversation_paths_total', { path: 'new' }), 4);
    assert.equal(delta(samples, 'ccg_conversation_paths_total', { path: 'live' }), 1);
    assert.equal(delta(samples, 'ccg_turn_duration_seconds_count', { model }), 5);
    assert.equal(delta(samples, 'ccg_time_to_first_token_seconds_count', { model }), 4);
    assert.equal(delta(samples, 'ccg_queue_wait_seconds_count', { model }), 5);
    assert.ok(delta(samples, 'ccg_turn_duration_seconds_sum', { model }) > 0);

    // Tokens: exactly what the clients were told. OpenAI's prompt_tokens include the cached ones.
    const out = chat.reduce((a, u) => a + u.completion_tokens, 0) + msg.usage.output_tokens;
    const cacheRead = chat.reduce((a, u) => a + (u.prompt_tokens_details?.cached_tokens ?? 0), 0) + (msg.usage.cache_read_input_tokens ?? 0);
    const allInput = chat.reduce((a, u) => a + u.prompt_tokens, 0) + msg.usage.input_tokens + (msg.usage.cache_read_input_tokens ?? 0) + (msg.usage.cache_creation_input_tokens ?? 0);
    const tokens = (type: string) => delta(samples, 'ccg_tokens_total', { model, key: 'admin', type });
    assert.equal(tokens('output'), out);
    assert.equal(tokens('cache_read'), cacheRead);
    assert.equal(tokens('input') + tokens('cache_read') + tokens('cache_write'), allInput);
    assert.ok(cacheRead > 0, 'the live turn read the prompt cache');

    // Errors by kind, and the login.
    assert.equal(delta(samples, 'ccg_upstream_errors_total', { kind: 'overloaded' }), 1);
    assert.equal(total(samples, 'ccg_claude_authenticated', { method: 'api_key' }), 1);
    assert.equal(total(samples, 'ccg_claude_verified'), 1);
    assert.equal(total(samples, 'ccg_turns_running'), 0);
    // Every process is in exactly one state.
    const states = samples.filter((s) => s.name === 'ccg_cli_processes').map((s) => s.labels.state).sort();
    assert.deepEqual(states, ['busy', 'live-idle', 'parked', 'starting', 'warm']);
  });
});
