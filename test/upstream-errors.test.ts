// Upstream errors the CLI reports are told apart (issue 10, item 2): a prompt too long is a 400 in
// each dialect's shape, another refused request a 400, a 403 a permission problem, an error the
// gateway does not recognise a 502; none passes the CLI's text (which names the upstream) on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mapUpstreamFailure } from '../src/engine/upstream-errors.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
});
after(() => h.close());

async function call(dialect: 'chat' | 'responses' | 'anthropic', prompt: string) {
  const [path, body, headers] =
    dialect === 'chat'
      ? ['/v1/chat/completions', { model: 'sonnet', messages: [{ role: 'user', content: prompt }] }, { authorization: `Bearer ${TEST_KEY}` }]
      : dialect === 'responses'
        ? ['/v1/responses', { model: 'sonnet', input: prompt }, { authorization: `Bearer ${TEST_KEY}` }]
        : ['/v1/messages', { model: 'sonnet', max_tokens: 50, messages: [{ role: 'user', content: prompt }] }, { 'x-api-key': TEST_KEY, 'anthropic-version': '2023-06-01' }];
  const res = await fetch(`${h.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  assert.doesNotMatch(text, /127\.0\.0\.1|http:\/\//, 'no upstream address');
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: JSON.parse(text) };
}

describe('a prompt too long for the model', () => {
  for (const dialect of ['chat', 'responses'] as const) {
    test(`${dialect}: 400 context_length_exceeded, no Retry-After`, async () => {
      const r = await call(dialect, 'hello [[too-long]]');
      assert.equal(r.status, 400);
      assert.equal(r.retryAfter, null);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.equal(r.json.error.code, 'context_length_exceeded');
      assert.match(r.json.error.message, /prompt is too long/i);
    });
  }
  test('anthropic: 400 invalid_request_error "prompt is too long"', async () => {
    const r = await call('anthropic', 'hello [[too-long]]');
    assert.equal(r.status, 400);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.match(r.json.error.message, /^prompt is too long: \d+ tokens > \d+ maximum/);
  });
  test("Claude Code's own check (no API call, no status) maps the same", () => {
    const e = mapUpstreamFailure({ error: 'invalid_request', text: 'Prompt is too long' }, 5);
    assert.equal(e.status, 400);
    assert.equal(e.extra.code, 'context_length_exceeded');
  });
});

describe('other upstream errors', () => {
  test('another 400 is a 400 invalid_request_error', async () => {
    const r = await call('chat', '[[status:400]]');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'upstream_invalid_request');
    const a = await call('anthropic', '[[status:400]]');
    assert.equal(a.status, 400);
    assert.equal(a.json.error.type, 'invalid_request_error');
  });
  test('403 is a permission problem in words, not "not logged in"', async () => {
    const r = await call('chat', '[[status:403]]');
    assert.equal(r.status, 403);
    assert.equal(r.json.error.type, 'permission_error');
    assert.equal(r.json.error.code, 'upstream_permission_denied');
    assert.match(r.json.error.message, /credentials .* not allowed to use/);
    assert.doesNotMatch(r.json.error.message, /log in/i);
    const a = await call('anthropic', '[[status:403]]');
    assert.equal(a.status, 403);
    assert.equal(a.json.error.type, 'permission_error');
  });
  test('401 stays the login message', async () => {
    const r = await call('chat', '[[status:401]]');
    assert.equal(r.status, 503);
    assert.match(r.json.error.message, /log in/i);
  });
  test('an error the gateway does not recognise is a 502, not overloaded', async () => {
    const r = await call('chat', '[[status:418]]');
    assert.equal(r.status, 502);
    assert.equal(r.retryAfter, null);
    assert.equal(r.json.error.code, 'upstream_error');
    const a = await call('anthropic', '[[status:418]]');
    assert.equal(a.status, 502);
    assert.equal(a.json.error.type, 'api_error');
  });
  test('5xx and 529 stay 503 with Retry-After', async () => {
    for (const code of [500, 529]) {
      const r = await call('chat', `[[status:${code}]]`);
      assert.equal(r.status, 503);
      assert.ok(r.retryAfter);
    }
  });
});
