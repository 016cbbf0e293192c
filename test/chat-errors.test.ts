// Bad input, upstream failures and auth for Chat Completions: clear errors in OpenAI's shape, and
// the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;

before(async () => {
  h = await startHarness({ bodyLimitBytes: 64 * 1024 }, { prewarm: ['sonnet'] });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

async function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` }) {
  const res = await fetch(`${h.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { res, json: (await res.json()) as any };
}

function assertOpenAIError(json: any, type: string) {
  assert.equal(typeof json.error.message, 'string');
  assert.equal(json.error.type, type);
  assert.ok('param' in json.error && 'code' in json.error);
}

describe('bad input', () => {
  test('invalid JSON is a 400', async () => {
    const { res, json } = await post('{"model": "sonnet", ');
    assert.equal(res.status, 400);
    assertOpenAIError(json, 'invalid_request_error');
    assert.match(json.error.message, /not valid JSON/);
  });

  test('wrong types name the field', async () => {
    const { res, json } = await post({ model: 'sonnet', messages: 'hello' });
    assert.equal(res.status, 400);
    assertOpenAIError(json, 'invalid_request_error');
    assert.equal(json.error.param, 'messages');
    const r2 = await post({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }], max_tokens: 'lots' });
    assert.equal(r2.res.status, 400);
    assert.equal(r2.json.error.param, 'max_tokens');
    const r3 = await post({ model: 'sonnet', messages: [{ role: 'wizard', content: 'x' }] });
    assert.equal(r3.res.status, 400);
  });

  test('n > 1 is a clear 400 through the client', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'sonnet', n: 2, messages: [{ role: 'user', content: 'x' }] }),
      (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'n' && /n/.test(e.message),
    );
  });

  test('an unknown model is a 404 model_not_found', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      (e: any) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found',
    );
  });

  test('a body over the limit is a 413', async () => {
    const { res, json } = await post({ model: 'sonnet', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] });
    assert.equal(res.status, 413);
    assertOpenAIError(json, 'invalid_request_error');
  });

  test('remote image URLs are refused while fetching is off', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'sonnet',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/latest/meta-data' } }] }],
      }),
      (e: any) => e.status === 400,
    );
  });
});

describe('authentication', () => {
  test('missing and wrong keys are 401; x-api-key works; /health and /health/live need none', async () => {
    const none = await post({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }] }, {});
    assert.equal(none.res.status, 401);
    assertOpenAIError(none.json, 'authentication_error');
    const wrong = await post({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer nope-nope-nope' });
    assert.equal(wrong.res.status, 401);
    // An OpenAI path answers in OpenAI's shape even when the key came as x-api-key.
    const viaHeader = await post({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }] }, { 'x-api-key': 'nope-nope-nope' });
    assert.equal(viaHeader.res.status, 401);
    assertOpenAIError(viaHeader.json, 'authentication_error');
    const models = await fetch(`${h.baseURL}/models`, { headers: { 'x-api-key': TEST_KEY } });
    assert.equal(models.status, 200);
    // Operator stats need the key too.
    assert.equal((await fetch(`${h.gw.url}/stats`)).status, 401);
    const stats = (await (await fetch(`${h.gw.url}/stats`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as any;
    assert.equal(stats.turns_running, 0);
    assert.ok(stats.cli_processes_started >= 1);
    const health = await fetch(`${h.gw.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    // Liveness (the Kubernetes livenessProbe) needs no key either.
    const live = await fetch(`${h.gw.url}/health/live`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: 'ok' });
  });
});

describe('upstream failures', () => {
  test('upstream 429 is a 429 with Retry-After, never answer text', async () => {
    const { res, json } = await post({ model: 'sonnet', messages: [{ role: 'user', content: '[[status:429]]' }] });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assertOpenAIError(json, 'rate_limit_error');
    await assert.rejects(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[status:429]]' }] }),
      (e: any) => e instanceof OpenAI.RateLimitError,
    );
  });

  test('streaming: an upstream failure before the first token is a real HTTP status', async () => {
    await assert.rejects(
      (async () => {
        const s = await client.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: '[[status:529]]' }] });
        for await (const _ of s) void _;
      })(),
      (e: any) => e.status === 503,
    );
  });

  test('upstream authentication failure is a 503 that tells the operator how to log in, without internals', async () => {
    const { res, json } = await post({ model: 'sonnet', messages: [{ role: 'user', content: '[[status:401]]' }] });
    assert.equal(res.status, 503);
    assert.match(json.error.message, /log in/i);
    assert.doesNotMatch(json.error.message, /127\.0\.0\.1|http:\/\//);
  });

  test('upstream 5xx is a 503 whose message does not leak the upstream address', async () => {
    const { res, json } = await post({ model: 'sonnet', messages: [{ role: 'user', content: '[[status:500]]' }] });
    assert.equal(res.status, 503);
    assert.ok(res.headers.get('retry-after'));
    assert.doesNotMatch(JSON.stringify(json), /127\.0\.0\.1|scripted/);
  });

  test('a connection cut mid-stream: the CLI fetches the answer again and the client gets no text twice', async () => {
    const stream = await client.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: '[[reply:one two three four five]] [[cut]]' }] });
    let text = '';
    let finish;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, 'one two three four five');
    assert.equal(finish, 'stop');
    // The scripted upstream saw the broken stream, then the CLI's non-streaming request.
    const last = h.upstream.requests.slice(-2).map((r) => r.body.stream ?? false);
    assert.deepEqual(last, [true, false]);
  });

  test('the server keeps serving after all of that', async () => {
    const r = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:still here]]' }] });
    assert.equal(r.choices[0].message.content, 'still here');
  });
});
