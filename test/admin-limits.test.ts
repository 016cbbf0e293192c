// An app key's requests per minute, tokens per minute and token budgets through the real clients in
// each dialect: the request over a limit is a 429 in the dialect's own error shape that names the
// limit, with Retry-After until the window rolls over, and starts no CLI turn.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { minuteOf, secondsToNextDay } from '../src/admin/periods.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
});
after(() => h.close());

async function admin(method: string, path: string, body?: unknown, key = TEST_KEY): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${h.gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, headers: res.headers };
}

async function createKey(spec: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const r = await admin('POST', '/admin/keys', spec);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

const openai = (key: string) => new OpenAI({ baseURL: h.baseURL, apiKey: key, maxRetries: 0 });
const anthropic = (key: string) => new Anthropic({ baseURL: h.gw.url, apiKey: key, maxRetries: 0 });

/** One request in each dialect, through its real client. */
const dialects: [string, (key: string, text: string) => Promise<unknown>][] = [
  ['openai-chat', (key, text) => openai(key).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: text }] })],
  ['responses', (key, text) => openai(key).responses.create({ model: 'sonnet', input: text })],
  ['anthropic', (key, text) => anthropic(key).messages.create({ model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: text }] })],
];

/** The error a client call threw (both SDKs throw an APIError with status, headers and body). */
async function refusal(p: Promise<unknown>): Promise<{ status: number; headers: Headers; body: any }> {
  try {
    await p;
  } catch (e: any) {
    assert.ok(typeof e.status === 'number', `an API error, not ${e}`);
    return { status: e.status, headers: e.headers, body: e.error };
  }
  assert.fail('the request succeeded');
}

/** The error's message and code, wherever the dialect puts them. */
function errorOf(dialect: string, body: any): { message: string; type: string; code?: string } {
  if (dialect === 'anthropic') {
    assert.equal(body.type, 'error');
    return { message: body.error.message, type: body.error.type };
  }
  return { message: body.message ?? body.error?.message, type: body.type ?? body.error?.type, code: body.code ?? body.error?.code };
}

describe('an app key over its limits', () => {
  for (const [dialect, call] of dialects) {
    test(`${dialect}: requests per minute: the request over the limit is a 429 with Retry-After until the minute ends`, async () => {
      // Fixed one-minute windows: a run that straddles a minute's end proves nothing and is run again.
      for (let attempt = 0; ; attempt++) {
        const { key } = await createKey({ name: `rpm ${dialect}`, rpm: 1 });
        const minute = minuteOf(Date.now());
        await call(key, '[[reply:one]]');
        const before = h.upstream.requests.length;
        const at = Date.now();
        const err = await refusal(call(key, '[[reply:two]]')).catch((e) => e as Error);
        if (minuteOf(Date.now()) !== minute && attempt < 2) continue;
        assert.ok(!(err instanceof Error), String(err));
        assert.equal(err.status, 429);
        const retryAfter = Number(err.headers.get('retry-after'));
        assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
        assert.ok(Math.abs(retryAfter - (60 - Math.floor((at % 60_000) / 1000))) <= 2, `Retry-After ${retryAfter} is the rest of the minute`);
        const e = errorOf(dialect, err.body);
        assert.equal(e.type, 'rate_limit_error');
        assert.match(e.message, /limit of 1 requests per minute/);
        if (dialect !== 'anthropic') assert.equal(e.code, 'requests_per_minute_exceeded');
        assert.equal(h.upstream.requests.length, before, 'no upstream request');
        return;
      }
    });

    test(`${dialect}: a used-up daily token budget is a 429 with Retry-After until the UTC day ends`, async () => {
      const { key } = await createKey({ name: `budget ${dialect}`, daily_tokens: 5 });
      await call(key, '[[reply:this answer uses up the budget]]');
      const at = Date.now();
      const err = await refusal(call(key, '[[reply:never]]'));
      assert.equal(err.status, 429);
      const retryAfter = Number(err.headers.get('retry-after'));
      assert.ok(Math.abs(retryAfter - secondsToNextDay(at)) <= 5, `Retry-After ${retryAfter} vs ${secondsToNextDay(at)}`);
      const e = errorOf(dialect, err.body);
      assert.equal(e.type, 'rate_limit_error');
      assert.match(e.message, /daily token budget \(5 tokens\) is used up/);
      if (dialect !== 'anthropic') assert.equal(e.code, 'daily_token_budget_exceeded');
    });
  }

  test('tokens per minute and the monthly budget refuse the next request once reached', async () => {
    const tpm = await createKey({ name: 'tpm', tpm: 1 });
    const month = await createKey({ name: 'month', monthly_tokens: 1 });
    for (const [k, code] of [
      [tpm.key, 'tokens_per_minute_exceeded'],
      [month.key, 'monthly_token_budget_exceeded'],
    ]) {
      const minute = minuteOf(Date.now());
      await openai(k).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:spend]]' }] });
      const err = await refusal(openai(k).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:never]]' }] }));
      if (code === 'tokens_per_minute_exceeded' && minuteOf(Date.now()) !== minute) continue; // the window rolled over: nothing to see
      assert.equal(err.status, 429);
      assert.equal(err.body.code, code);
      assert.ok(Number(err.headers.get('retry-after')) >= 1);
    }
  });

});
