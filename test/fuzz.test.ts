// Property-based fuzzing of every endpoint (issue 10): generated malformed JSON, wrong types, deep
// nesting, huge strings, bad headers and wrong content types. Whatever arrives: never a 5xx, an
// answer within a bounded time, and errors in the dialect's own shape (OpenAI's {error:{message,type,
// param,code}} on /v1/chat and /v1/responses, Anthropic's {type:'error',error:{type,message}} on
// /v1/messages). Fixed seeds keep CI deterministic; most bodies are refused before any CLI turn, and
// the few valid ones ask the scripted upstream for a one-word reply.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  // The failed-auth throttle is off: the fuzzer sends wrong keys from one address on purpose.
  h = await startHarness({ authFreeFailures: 0 }, { prewarm: ['sonnet'] });
});
after(() => h.close());

const REQUEST_TIMEOUT_MS = 20_000;
const SEED = 20_240_610;

type Dialect = 'openai' | 'anthropic' | 'either';

const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)), maxLength: max });

/** Nested JSON text, `n` levels of arrays or objects, built as text (no recursion anywhere). */
const deepText = fc.tuple(fc.integer({ min: 60, max: 20_000 }), fc.boolean()).map(([n, obj]) => (obj ? '{"a":'.repeat(n) + '1' + '}'.repeat(n) : '['.repeat(n) + ']'.repeat(n)));
const hugeString = fc.integer({ min: 10_000, max: 1_500_000 }).map((n) => 'x'.repeat(n));

/** Any JSON value, including the awkward ones (null, huge numbers, nested junk). */
const anyJson = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.constantFrom(null, -1, 0, 1e308, true, '', [], {}) },
);

const TEXT = '[[reply:ok]]';
const BASES: Record<string, () => Record<string, unknown>> = {
  '/v1/chat/completions': () => ({ model: 'sonnet', messages: [{ role: 'user', content: TEXT }] }),
  '/v1/responses': () => ({ model: 'sonnet', input: TEXT }),
  '/v1/messages': () => ({ model: 'sonnet', max_tokens: 16, messages: [{ role: 'user', content: TEXT }] }),
  '/v1/messages/count_tokens': () => ({ model: 'sonnet', messages: [{ role: 'user', content: TEXT }] }),
  '/auth/token': () => ({ token: 'not-a-token' }),
};
const FIELDS = [
  'model', 'messages', 'input', 'max_tokens', 'max_output_tokens', 'max_completion_tokens', 'stream', 'tools', 'tool_choice', 'metadata',
  'system', 'instructions', 'stop', 'stop_sequences', 'response_format', 'text', 'thinking', 'reasoning', 'previous_response_id', 'n',
  'temperature', 'output_config', 'token',
];

/** A request body, as text: malformed JSON, any JSON, deep nesting, or a valid request with one field made wrong. */
function bodyFor(path: string) {
  const base = BASES[path];
  const mutated = fc
    .tuple(fc.constantFrom(...FIELDS), anyJson, fc.boolean())
    .map(([field, value, drop]) => {
      const b = base();
      if (drop) delete b[field];
      else b[field] = value;
      return JSON.stringify(b);
    });
  const nestedField = fc.tuple(fc.constantFrom(...FIELDS), deepText).map(([field, deep]) => JSON.stringify(base()).replace(/^\{/, `{"${field}":${deep},`));
  const badMessages = fc.array(fc.record({ role: fc.constantFrom('user', 'assistant', 'system', 'tool', 'wizard'), content: anyJson }), { maxLength: 3 }).map((m) => JSON.stringify({ ...base(), messages: m, input: m }));
  const truncated = fc.tuple(fc.constant(JSON.stringify(base())), fc.nat()).map(([t, k]) => t.slice(0, k % t.length));
  return fc.oneof(
    { weight: 3, arbitrary: mutated },
    { weight: 2, arbitrary: badMessages },
    { weight: 1, arbitrary: nestedField },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: truncated },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '[]', '{}', '{"model":', '\u0000\u0001', '\uFEFF{}') },
  );
}

const contentType = fc.constantFrom(
  'application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', '',
  'multipart/form-data; boundary=zzz', 'multipart/form-data', 'application/x-www-form-urlencoded', 'application/xml', 'application/json; charset=utf-16',
);

/** Who the request says it is: the right key (mostly), a wrong one, none, Anthropic or OpenAI style. */
const credentials = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Record<string, string>>({ authorization: `Bearer ${TEST_KEY}` }, { 'x-api-key': TEST_KEY, 'anthropic-version': '2023-06-01' }, { 'x-api-key': TEST_KEY }) },
  { weight: 1, arbitrary: printable(80).map((k): Record<string, string> => ({ authorization: `Bearer ${k}` })) },
  { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>({}, { authorization: 'Basic abc' }, { authorization: 'Bearer' }, { 'x-api-key': '' }) },
);
const extraHeaders = fc.dictionary(
  fc.constantFrom('anthropic-version', 'anthropic-beta', 'openai-organization', 'accept', 'accept-encoding', 'x-stainless-retry-count', 'origin', 'cookie', 'x-forwarded-for'),
  printable(200),
  { maxKeys: 3 },
);

function isOpenAIError(j: any): boolean {
  return !!j && typeof j.error === 'object' && j.error !== null && typeof j.error.message === 'string' && typeof j.error.type === 'string' && 'param' in j.error && 'code' in j.error;
}
function isAnthropicError(j: any): boolean {
  return !!j && j.type === 'error' && typeof j.error === 'object' && j.error !== null && typeof j.error.type === 'string' && typeof j.error.message === 'string';
}

/** Which error shape a request must get back (the gateway's own rule for paths every dialect shares). */
function dialectOf(path: string, headers: Record<string, string>): Dialect {
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (path.startsWith('/v1/chat/') || path.startsWith('/v1/responses')) return 'openai';
  if (path.startsWith('/auth')) return 'either';
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (lower['anthropic-version']) return 'anthropic';
  return lower['x-api-key'] && !/^bearer\s/i.test(lower.authorization ?? '') ? 'anthropic' : 'openai';
}

async function check(method: string, path: string, headers: Record<string, string>, body?: string): Promise<void> {
  try {
    await checkOnce(method, path, headers, body);
  } catch (e) {
    // fast-check reports the counterexample; this says what was wrong with it.
    console.error((e as Error).message);
    throw e;
  }
}

/**
 * One request on its own connection (no keep-alive: a refused request whose body the server did not
 * read may have its connection closed, which is not a failure of the next request).
 */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${h.gw.url}${path}`, { method, headers, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      // The server may answer (401, 413) and close before it has read a large body: the answer counts,
      // if it arrives.
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') setTimeout(() => reject(e), 2000).unref();
      else reject(e);
    });
    req.end(body);
  });
}

async function checkOnce(method: string, path: string, headers: Record<string, string>, body?: string): Promise<void> {
  const t0 = Date.now();
  const res = await send(method, path, headers, body);
  const text = res.text;
  const ms = Date.now() - t0;
  const what = `${method} ${path} ${JSON.stringify(headers).slice(0, 200)} body=${JSON.stringify((body ?? '').slice(0, 200))} -> ${res.status} ${text.slice(0, 300)}`;
  assert.ok(res.status < 500, what);
  assert.ok(ms < REQUEST_TIMEOUT_MS, what);
  if (res.status >= 400 && String(res.headers['content-type']).includes('json')) {
    const json = JSON.parse(text);
    const d = dialectOf(path, headers);
    if (d === 'openai') assert.ok(isOpenAIError(json), `OpenAI error shape: ${what}`);
    else if (d === 'anthropic') assert.ok(isAnthropicError(json), `Anthropic error shape: ${what}`);
    else assert.ok(isOpenAIError(json) || isAnthropicError(json), `an error shape: ${what}`);
    assert.ok(res.headers['x-request-id'] || path.startsWith('/auth') || res.status === 401 || res.status === 429, `request id: ${what}`);
  } else if (res.status >= 400 && !path.startsWith('/auth')) {
    assert.fail(`an error without a JSON body: ${what}`);
  }
}

describe('fuzz', { timeout: 100_000 }, () => {
  test('POST endpoints: malformed, mistyped, deep and huge bodies with any headers', async () => {
    const paths = Object.keys(BASES);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths).chain((path) => fc.tuple(fc.constant(path), bodyFor(path), contentType, credentials, extraHeaders)),
        async ([path, body, type, creds, extra]) => {
          const headers: Record<string, string> = { ...extra, ...creds };
          if (type) headers['content-type'] = type;
          await check('POST', path, headers, body);
        },
      ),
      { numRuns: 160, seed: SEED, endOnFailure: true },
    );
  });

  test('GET and DELETE endpoints: odd ids, queries and headers', async () => {
    const id = fc.oneof(
      fc.constantFrom('resp_123', 'sonnet', 'claude-x', '%00', '..%2F..%2Fetc%2Fpasswd', '%E2%80%AE', 'a/b/c', ' '),
      printable(40).map((s) => encodeURIComponent(s) || 'x'),
      fc.integer({ min: 1000, max: 6000 }).map((n) => 'y'.repeat(n)),
    );
    const query = fc.oneof(fc.constant(''), fc.record({ order: printable(8), limit: fc.oneof(printable(5), fc.integer().map(String)), after: printable(20) }).map((q) => `?${new URLSearchParams(q)}`));
    const route = fc.oneof(
      fc.tuple(fc.constant('GET'), fc.constant('/v1/models')),
      fc.tuple(fc.constant('GET'), id.map((i) => `/v1/models/${i}`)),
      fc.tuple(fc.constant('GET'), id.map((i) => `/v1/responses/${i}`)),
      fc.tuple(fc.constant('GET'), fc.tuple(id, query).map(([i, q]) => `/v1/responses/${i}/input_items${q}`)),
      fc.tuple(fc.constant('DELETE'), id.map((i) => `/v1/responses/${i}`)),
      fc.tuple(fc.constantFrom('GET', 'DELETE', 'PUT'), fc.constantFrom('/v1/chat/completions', '/v1/messages', '/v1/nothing', '/auth/status', '/stats')),
    );
    await fc.assert(
      fc.asyncProperty(route, credentials, extraHeaders, async ([method, path], creds, extra) => {
        await check(method, path, { ...extra, ...creds });
      }),
      { numRuns: 120, seed: SEED, endOnFailure: true },
    );
  });
});
