// Bad input, upstream failures and auth on the Anthropic dialect: errors in Anthropic's shape
// {"type":"error","error":{"type","message"}} through both SDK lines, pings while the model is silent,
// remote media policy, and the server keeps serving.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Anthropic1 from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0x';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { PNG_BASE64, readSse, sseLines } from './support/media.js';

let h: Harness;
before(async () => {
  h = await startHarness({ bodyLimitBytes: 64 * 1024 }, { prewarm: ['sonnet'] });
});
after(() => h.close());

const HEADERS = { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };

async function post(base: string, body: unknown, headers: Record<string, string> = { 'x-api-key': TEST_KEY }) {
  const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...HEADERS, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { res, text: await res.text() };
}

function assertAnthropicError(text: string, type: string) {
  const json = JSON.parse(text);
  assert.equal(json.type, 'error');
  assert.equal(json.error.type, type);
  assert.equal(typeof json.error.message, 'string');
  return json;
}

const user = (content: string) => [{ role: 'user' as const, content }];

describe('bad input', () => {
  test('invalid JSON, a missing max_tokens and a malformed block are 400 invalid_request_error', async () => {
    const bad = await post(h.gw.url, '{"model": ');
    assert.equal(bad.res.status, 400);
    assertAnthropicError(bad.text, 'invalid_request_error');

    const noMax = await post(h.gw.url, { model: 'sonnet', messages: user('x') });
    assert.equal(noMax.res.status, 400);
    assert.match(assertAnthropicError(noMax.text, 'invalid_request_error').error.message, /max_tokens/);

    const badBlock = await post(h.gw.url, { model: 'sonnet', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64' } }] }] });
    assert.equal(badBlock.res.status, 400);
    assertAnthropicError(badBlock.text, 'invalid_request_error');
  });

  test('a schema the gateway cannot honour is a 400 naming it', async () => {
    const client = new Anthropic1({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
    for (const schema of [{ type: 'array', items: { type: 'string' } }, { type: 'object', properties: { a: { type: 'nope' } } }]) {
      await assert.rejects(
        client.messages.create({ model: 'sonnet', max_tokens: 10, output_config: { format: { type: 'json_schema', schema } }, messages: user('x') }),
        (e: any) => e instanceof Anthropic1.BadRequestError && (e as any).error?.error?.type === 'invalid_request_error' && /output_config\.format\.schema/.test(e.message),
      );
    }
  });

  test('a body over the limit is 413 request_too_large', async () => {
    const big = await post(h.gw.url, { model: 'sonnet', max_tokens: 10, messages: user('x'.repeat(100 * 1024)) });
    assert.equal(big.res.status, 413);
    assertAnthropicError(big.text, 'request_too_large');
  });

  test('remote image URLs are refused while fetching is off', async () => {
    const r = await post(h.gw.url, { model: 'sonnet', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }] });
    assert.equal(r.res.status, 400);
    assert.match(assertAnthropicError(r.text, 'invalid_request_error').error.message, /base64/);
  });
});

for (const [name, Client] of [
  ['sdk 1.x', Anthropic1],
  ['sdk 0.x', Anthropic0],
] as const) {
  describe(`errors through ${name}`, () => {
    const client = (key = TEST_KEY) => new (Client as typeof Anthropic1)({ baseURL: h.gw.url, apiKey: key, maxRetries: 0 });

    test('a wrong key is 401 authentication_error', async () => {
      await assert.rejects(client('wrong-key-123456').messages.create({ model: 'sonnet', max_tokens: 10, messages: user('x') }), (e: any) => {
        return e.status === 401 && e.error?.type === 'error' && e.error?.error?.type === 'authentication_error';
      });
    });

    test('an unknown model is 404 not_found_error', async () => {
      await assert.rejects(client().messages.create({ model: 'no-such-model', max_tokens: 10, messages: user('x') }), (e: any) => {
        return e.status === 404 && e.error?.error?.type === 'not_found_error';
      });
      await assert.rejects(client().messages.countTokens({ model: 'no-such-model', messages: user('x') }), (e: any) => e.status === 404);
    });

    test('an upstream 429 is rate_limit_error with Retry-After', async () => {
      await assert.rejects(client().messages.create({ model: 'sonnet', max_tokens: 10, messages: user('[[status:429]]') }), (e: any) => {
        return e.status === 429 && e.error?.error?.type === 'rate_limit_error' && Number(e.headers?.get('retry-after')) > 0;
      });
    });

    test('an overloaded upstream is overloaded_error', async () => {
      await assert.rejects(client().messages.create({ model: 'sonnet', max_tokens: 10, messages: user('[[status:529]]') }), (e: any) => {
        return e.status >= 500 && e.error?.error?.type === 'overloaded_error';
      });
    });
  });
}

describe('failures during a turn', () => {
  test('a model that never gives the structured output is api_error', async () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const r = await post(h.gw.url, { model: 'sonnet', max_tokens: 100, output_config: { format: { type: 'json_schema', schema } }, messages: user('[[reply:just prose]]') });
    assert.equal(r.res.status, 502);
    assertAnthropicError(r.text, 'api_error');
  });

  test('a failure after the stream began is an event: error', async () => {
    const r = await post(h.gw.url, { model: 'sonnet', max_tokens: 100, stream: true, messages: user('[[reply:one two three]] [[stream-error]]') });
    assert.equal(r.res.status, 200);
    const events = readSse(r.text);
    assert.equal(events[0].event, 'message_start');
    const last = events[events.length - 1];
    assert.equal(last.event, 'error');
    assert.equal(last.data.type, 'error');
    assert.equal(last.data.error.type, 'overloaded_error');
    assert.ok(!events.some((e) => e.event === 'message_stop'));
  });

  test('auth failures and unknown routes answer in Anthropic shape; the server keeps serving', async () => {
    const noKey = await post(h.gw.url, { model: 'sonnet', max_tokens: 10, messages: user('x') }, {});
    assert.equal(noKey.res.status, 401);
    assertAnthropicError(noKey.text, 'authentication_error');
    const bearer = await post(h.gw.url, { model: 'sonnet', max_tokens: 10, messages: user('x') }, { authorization: 'Bearer nope-nope-nope' });
    assert.equal(bearer.res.status, 401);
    assertAnthropicError(bearer.text, 'authentication_error');
    const nowhere = await fetch(`${h.gw.url}/v1/messages/nowhere`, { method: 'POST', headers: { ...HEADERS, 'x-api-key': TEST_KEY }, body: '{}' });
    assert.equal(nowhere.status, 404);
    assertAnthropicError(await nowhere.text(), 'not_found_error');
    const ok = await new Anthropic1({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 }).messages.create({ model: 'sonnet', max_tokens: 10, messages: user('[[reply:still here]]') });
    assert.deepEqual(ok.content, [{ type: 'text', text: 'still here' }]);
  });

  test('GET /v1/models answers in the dialect the request speaks', async () => {
    const anthropic = await (await fetch(`${h.gw.url}/v1/models`, { headers: { 'x-api-key': TEST_KEY } })).json();
    assert.equal(anthropic.data[0].type, 'model');
    assert.equal(anthropic.has_more, false);
    const versioned = await (await fetch(`${h.gw.url}/v1/models`, { headers: { authorization: `Bearer ${TEST_KEY}`, 'anthropic-version': '2023-06-01' } })).json();
    assert.equal(versioned.data[0].type, 'model');
    const openai = await (await fetch(`${h.gw.url}/v1/models`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json();
    assert.equal(openai.object, 'list');
    assert.equal(openai.data[0].object, 'model');
  });
});

describe('with remote fetching on and short keepalives', () => {
  let h2: Harness;
  let media: http.Server;
  let mediaUrl: string;
  before(async () => {
    h2 = await startHarness({ fetchRemoteImages: true, keepaliveMs: 200, warmProfiles: 0 });
    media = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from(PNG_BASE64, 'base64')));
    await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
    mediaUrl = `http://localhost:${(media.address() as AddressInfo).port}/a.png`;
  });
  after(async () => {
    media.close();
    await h2.close();
  });

  test('ping events flow while the model is silent', async () => {
    const r = await post(h2.gw.url, { model: 'sonnet', max_tokens: 100, stream: true, messages: user('[[wait:1200]] [[reply:late answer]]') });
    const lines = sseLines(r.text);
    const firstPing = lines.indexOf('event: ping');
    const firstDelta = lines.indexOf('event: content_block_delta');
    assert.ok(firstPing >= 0 && firstPing < firstDelta, 'pings before the answer');
    assert.ok(r.text.includes('data: {"type":"ping"}'));
    assert.equal(lines[lines.length - 1], 'event: message_stop');
  });

  test('loopback and private addresses are never fetched, by literal or by name', async () => {
    for (const url of [mediaUrl, mediaUrl.replace('localhost', '127.0.0.1'), 'http://169.254.169.254/latest/meta-data', 'http://[::1]:9/x.png', 'http://10.0.0.1/x.png']) {
      const r = await post(h2.gw.url, { model: 'sonnet', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url } }, { type: 'text', text: 'x' }] }] });
      assert.equal(r.res.status, 400, url);
      assert.match(assertAnthropicError(r.text, 'invalid_request_error').error.message, /not public/, url);
    }
  });
});
