// Issue 10, items 1 and 5: one depth and size policy on JSON input, every thrown error a logged 4xx/5xx
// in the dialect's shape with a request id, media bytes checked as the Anthropic API checks them, and
// error messages that never repeat more than a short prefix of a client's value.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import pino from 'pino';
import { loadConfig } from '../src/config/config.js';
import { parseJsonText } from '../src/http/body.js';
import { createApp } from '../src/app.js';
import { checkTools } from '../src/engine/tool-requests.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { PDF_BASE64, PNG_BASE64 } from './support/media.js';

let h: Harness;
let openai: OpenAI;
let anthropic: Anthropic;
before(async () => {
  h = await startHarness({}, { prewarm: [] });
  openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const JPEG_BASE64 = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00]).toString('base64');
const GIF_BASE64 = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1').toString('base64');
const TEXT_BASE64 = Buffer.from('just some text, not a picture').toString('base64');

/** An object schema nested `n` levels of properties deep, built without recursion. */
function deepSchema(n: number): Record<string, unknown> {
  let s: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < n; i++) s = { type: 'object', properties: { a: s } };
  return s;
}

async function raw(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { res, json: (await res.json()) as any };
}

function assertRequestId(res: Response) {
  const id = res.headers.get('x-request-id');
  assert.match(id ?? '', /^req_[A-Za-z0-9]{20,}$/);
  assert.equal(res.headers.get('request-id'), id);
  return id!;
}

describe('depth policy', () => {
  test('the body scanner allows 64 levels and refuses 65, naming where', () => {
    const at = (n: number) => '['.repeat(n) + ']'.repeat(n);
    assert.deepEqual(parseJsonText(at(64)) instanceof Array, true);
    assert.throws(() => parseJsonText(at(65)), (e: any) => e.status === 400 && /nested too deeply/.test(e.message));
    assert.throws(() => parseJsonText('{"a":{"b":[' + '['.repeat(70)), (e: any) => e.status === 400 && e.extra.param.startsWith('a.b.0.0.0'));
    // Brackets inside strings (and escaped quotes) are not nesting.
    const s = JSON.stringify({ t: '[[[[{{{{\\"'.repeat(50) });
    assert.deepEqual(parseJsonText(s), JSON.parse(s));
    // A megabyte-deep body is refused at once, before JSON.parse.
    const t0 = Date.now();
    assert.throws(() => parseJsonText('['.repeat(5_000_000)), /nested too deeply/);
    assert.ok(Date.now() - t0 < 1000);
  });

  test('a tool schema nested deeper than the limit is a 400 from the check itself, before Ajv', () => {
    assert.throws(
      () => checkTools([{ name: 'deep', inputSchema: deepSchema(5000) }]),
      (e: any) => e.status === 400 && e.extra.param === 'tools.0.parameters' && /deeper than 64/.test(e.message),
    );
  });

  test('a valid tool schema nested 1,000 deep is a 400 in Chat Completions', async () => {
    const before = h.upstream.requests.length;
    await assert.rejects(
      openai.chat.completions.create({
        model: 'sonnet',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'deep', parameters: deepSchema(1000) } }],
      }),
      (e: any) => e instanceof OpenAI.BadRequestError && e.type === 'invalid_request_error' && /nested too deeply/.test(e.message) && /^req_/.test(e.requestID ?? '') && String(e.param).startsWith('tools.0.function.parameters'),
    );
    assert.equal(h.upstream.requests.length, before);
  });

  test('... in Responses', async () => {
    await assert.rejects(
      openai.responses.create({ model: 'sonnet', input: 'hi', tools: [{ type: 'function', name: 'deep', parameters: deepSchema(1000), strict: false }] }),
      (e: any) => e instanceof OpenAI.BadRequestError && e.type === 'invalid_request_error' && /nested too deeply/.test(e.message),
    );
  });

  test('... in Anthropic Messages and count_tokens', async () => {
    const tools = [{ name: 'deep', input_schema: deepSchema(1000) as Anthropic.Tool.InputSchema }];
    await assert.rejects(
      anthropic.messages.create({ model: 'sonnet', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], tools }),
      (e: any) => e instanceof Anthropic.BadRequestError && (e as any).error?.error?.type === 'invalid_request_error' && /nested too deeply/.test(e.message) && /^req_/.test(e.requestID ?? ''),
    );
    await assert.rejects(
      anthropic.messages.countTokens({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }], tools }),
      (e: any) => e instanceof Anthropic.BadRequestError && (e as any).error?.error?.type === 'invalid_request_error',
    );
  });

  test('Responses metadata nested 10,000 deep is a 400 before any turn runs', async () => {
    const before = h.upstream.requests.length;
    const body = `{"model":"sonnet","input":"hi","metadata":{"k":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`;
    const { res, json } = await raw('/v1/responses', body);
    assert.equal(res.status, 400);
    assert.equal(json.error.type, 'invalid_request_error');
    assert.match(json.error.message, /nested too deeply/);
    assert.match(json.error.param, /^metadata\.k/);
    assertRequestId(res);
    assert.equal(h.upstream.requests.length, before);
  });

  test('metadata is held to what OpenAI takes: 16 string values, 64-character keys, 512-character values', async () => {
    const input = 'hi';
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])), 'metadata', /at most 16/],
      [{ ['k'.repeat(65)]: 'v' }, 'metadata', /at most 64/],
      [{ k: 'v'.repeat(513) }, 'metadata.k', /at most 512/],
      [{ k: { nested: 'v' } }, 'metadata.k', /expected a string/],
    ];
    for (const [metadata, param, message] of cases) {
      await assert.rejects(
        openai.responses.create({ model: 'sonnet', input, metadata: metadata as Record<string, string> }),
        (e: any) => e instanceof OpenAI.BadRequestError && e.param === param && message.test(e.message),
      );
      await assert.rejects(
        openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: input }], metadata: metadata as Record<string, string> }),
        (e: any) => e instanceof OpenAI.BadRequestError && e.param === param,
      );
    }
  });

  test('POST /auth/token with a broken multipart body is a 400', async () => {
    const res = await fetch(`${h.gw.url}/auth/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="token"\r\n\r\nsk-ant-oat01-abc\r\n--NOT-THE-END',
    });
    const json = (await res.json()) as any;
    assert.equal(res.status, 400);
    assert.equal(json.error.type, 'invalid_request_error');
    assert.match(json.error.message, /form body could not be read/);
    assertRequestId(res);
  });
});

describe('request ids and thrown errors', () => {
  test('every response carries a request id, successes included', async () => {
    const models = await fetch(`${h.baseURL}/models`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    assertRequestId(models);
    const r = await openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:ok]]' }] }).withResponse();
    assert.equal(r.data.choices[0].message.content, 'ok');
    assertRequestId(r.response);
    const a = await anthropic.messages.create({ model: 'sonnet', max_tokens: 10, messages: [{ role: 'user', content: '[[reply:ok]]' }] }).withResponse();
    assert.match(a.request_id ?? '', /^req_/);
    const ids = new Set([assertRequestId(models), assertRequestId(r.response), a.request_id]);
    assert.equal(ids.size, 3, 'one id per request');
  });

  test('an error nobody expected is a logged 500 in the dialect shape with the request id, and no secret in the log', async () => {
    const lines: any[] = [];
    const log = pino({ level: 'debug', base: undefined }, new Writable({ write: (chunk, _e, cb) => (lines.push(JSON.parse(String(chunk))), cb()) }));
    const engine = {
      get catalog(): never {
        throw new TypeError('catalog exploded');
      },
      stats: () => ({}),
      // The app's observer (metrics, dashboard) listens to the engine's events.
      events: { listen: () => () => {} },
    };
    const app = createApp({ keys: [TEST_KEY], isReady: () => true, config: loadConfig({}, { apiKeys: [TEST_KEY] }), engine: engine as any, log, store: {} as any });
    const o = await app.request('/v1/models', { headers: { authorization: `Bearer ${TEST_KEY}` } });
    assert.equal(o.status, 500);
    const oj = (await o.json()) as any;
    assert.equal(oj.error.type, 'server_error');
    assert.doesNotMatch(oj.error.message, /exploded/, 'internal detail stays in the log');
    const id = assertRequestId(o);
    const a = await app.request('/v1/models', { headers: { 'x-api-key': TEST_KEY, 'anthropic-version': '2023-06-01' } });
    const aj = (await a.json()) as any;
    assert.equal(a.status, 500);
    assert.deepEqual([aj.type, aj.error.type, aj.request_id], ['error', 'api_error', a.headers.get('request-id')]);
    const logged = lines.filter((l) => l.level === 50 && l.requestId === id);
    assert.equal(logged.length, 1);
    assert.match(logged[0].err, /catalog exploded/);
    assert.match(logged[0].stack, /TypeError/);
    assert.ok(!JSON.stringify(lines).includes(TEST_KEY), 'the key is never logged');
  });
});

describe('media the Anthropic API would refuse', () => {
  const image = (media_type: string, data: string) => ({ type: 'image' as const, source: { type: 'base64' as const, media_type: media_type as 'image/png', data } });
  const msg = (block: object) => ({ model: 'sonnet', max_tokens: 10, messages: [{ role: 'user' as const, content: [block, { type: 'text' as const, text: 'what is this?' }] as any }] });

  test('Anthropic Messages: invalid base64, empty data, bytes that are not the declared type', async () => {
    const before = h.upstream.requests.length;
    const cases: [object, RegExp][] = [
      [image('image/png', '!!!not base64!!!'), /not valid base64/],
      [image('image/png', ''), /empty/],
      [image('image/png', JPEG_BASE64), /image\/png media type, but it appears to be an image\/jpeg image/],
      [image('image/png', PDF_BASE64), /a PDF document/],
      [image('image/gif', TEXT_BASE64), /not a PNG, JPEG, GIF or WebP/],
      [image('image/jpeg', GIF_BASE64), /appears to be an image\/gif/],
      [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PNG_BASE64 } }, /not a PDF/],
      [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: '' } }, /empty/],
    ];
    for (const [block, message] of cases) {
      await assert.rejects(anthropic.messages.create(msg(block)), (e: any) => {
        assert.ok(e instanceof Anthropic.BadRequestError, String(e));
        assert.equal((e as any).error.error.type, 'invalid_request_error');
        assert.match(e.message, message);
        assert.match(e.message, /messages\.0\.content\.0\.source\.data/);
        return true;
      });
    }
    await assert.rejects(anthropic.messages.countTokens(msg(image('image/png', JPEG_BASE64)) as any), Anthropic.BadRequestError);
    assert.equal(h.upstream.requests.length, before, 'nothing reached the upstream');
  });

  test('Chat Completions: image_url and file data are checked the same way, naming the field', async () => {
    const send = (part: object) => openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: [part as any, { type: 'text', text: 'x' }] }] });
    await assert.rejects(send({ type: 'image_url', image_url: { url: `data:image/png;base64,${JPEG_BASE64}` } }), (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'messages.0.content.0.image_url' && /image\/jpeg/.test(e.message));
    await assert.rejects(send({ type: 'image_url', image_url: { url: 'data:image/png;base64,' } }), (e: any) => e instanceof OpenAI.BadRequestError && /empty/.test(e.message));
    await assert.rejects(send({ type: 'file', file: { file_data: `data:application/pdf;base64,${PNG_BASE64}`, filename: 'a.pdf' } }), (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'messages.0.content.0.file.file_data' && /not a PDF/.test(e.message));
    await assert.rejects(send({ type: 'file', file: { file_data: `data:image/bmp;base64,${PNG_BASE64}` } }), (e: any) => e instanceof OpenAI.BadRequestError && /Unsupported image type/.test(e.message));
    await assert.rejects(send({ type: 'file', file: { file_data: 'JVBER%%%' } }), (e: any) => e instanceof OpenAI.BadRequestError && /not valid base64/.test(e.message));
  });

  test('Responses: input_image and input_file', async () => {
    const send = (part: object) => openai.responses.create({ model: 'sonnet', input: [{ role: 'user', content: [part as any, { type: 'input_text', text: 'x' }] }] });
    await assert.rejects(send({ type: 'input_image', image_url: `data:image/webp;base64,${PNG_BASE64}`, detail: 'auto' }), (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'input.0.content.0.image_url' && /image\/png/.test(e.message));
    await assert.rejects(send({ type: 'input_file', file_data: `data:application/pdf;base64,${TEXT_BASE64}`, filename: 'x.pdf' }), (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'input.0.content.0.file_data' && /not a PDF/.test(e.message));
    await assert.rejects(send({ type: 'input_file', file_data: 'data:text/plain;base64,@@@@', filename: 'x.txt' }), (e: any) => e instanceof OpenAI.BadRequestError && /not valid base64/.test(e.message));
  });

  test('the real media still goes through', async () => {
    const r = await anthropic.messages.create(msg(image('image/png', PNG_BASE64)) as any);
    assert.equal(r.type, 'message');
    const d = await anthropic.messages.create(msg({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 } }) as any);
    assert.equal(d.type, 'message');
  });
});

describe('error messages repeat at most a short prefix of a client value', () => {
  const HUGE = 'x'.repeat(2 * 1024 * 1024);
  const assertShort = (message: string) => {
    assert.ok(message.length < 1100, `message of ${message.length} characters`);
    assert.ok(!message.includes('x'.repeat(65)), 'at most 64 characters of the value');
    assert.match(message, /x+…/);
  };

  test('a 2 MB model name', async () => {
    await assert.rejects(openai.chat.completions.create({ model: HUGE, messages: [{ role: 'user', content: 'x' }] }), (e: any) => (assertShort(e.error.message), e.status === 404));
    await assert.rejects(anthropic.messages.create({ model: HUGE, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (e: any) => (assertShort(e.error.error.message), e.status === 404));
    await assert.rejects(openai.responses.create({ model: HUGE, input: 'x' }), (e: any) => (assertShort(e.error.message), e.status === 404));
    const m = await fetch(`${h.baseURL}/models/${'x'.repeat(5000)}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    assert.equal(m.status, 404);
    assertShort(((await m.json()) as any).error.message);
  });

  test('tool names, tool_choice, call ids, media types, response ids', async () => {
    const long = 'x'.repeat(10_000);
    const bad = [
      raw('/v1/chat/completions', { model: 'sonnet', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'ok', parameters: { type: 'object' } } }], tool_choice: { type: 'function', function: { name: long } } }),
      raw('/v1/chat/completions', { model: 'sonnet', messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: long, content: 'r' }] }),
      raw('/v1/chat/completions', { model: 'sonnet', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/${long};base64,AAAA` } }] }] }),
      raw('/v1/messages', { model: 'sonnet', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: long, data: PNG_BASE64 } }] }] }, { 'anthropic-version': '2023-06-01' }),
      raw('/v1/responses', { model: 'sonnet', input: 'x', previous_response_id: long }),
      raw('/v1/responses', { model: 'sonnet', input: [{ type: 'item_reference', id: long }] }),
    ];
    for (const { res, json } of await Promise.all(bad)) {
      assert.ok(res.status === 400, `status ${res.status}: ${JSON.stringify(json).slice(0, 200)}`);
      assertShort(json.error.message);
    }
    const g = await fetch(`${h.baseURL}/responses/${long.slice(0, 6000)}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    assert.equal(g.status, 404);
    assertShort(((await g.json()) as any).error.message);
  });
});
