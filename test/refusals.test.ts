// Anthropic's refusals reach the user (issue 19, item 5): an organisation's policy, a model or a
// context size the plan does not include, extra usage required or used up, a named rate limit. The
// scripted upstream answers the API's own error bodies ([[refuse:KIND]]); the real CLI reports them
// (no retries: cliMaxRetries 0); each reaches a real client in its dialect's error shape with the
// gateway's guidance and the API's message, without the organisation's id or any address but
// Anthropic's public pages.
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { after, before, describe, test } from 'node:test';
import { PERMISSION_HINT } from '../src/engine/upstream-errors.js';
import { REFUSALS, type RefusalKind } from './support/fake-upstream.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let openai: OpenAI;
let anthropic: Anthropic;
before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
  openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

type Dialect = 'chat' | 'responses' | 'anthropic';

/** The refusal as the client sees it: HTTP status, error type, message, Retry-After. */
async function refused(dialect: Dialect, kind: RefusalKind): Promise<{ status: number; type: string; code?: string; message: string; retryAfter: string | null }> {
  const prompt = `Go on. [[refuse:${kind}]]`;
  try {
    if (dialect === 'chat') await openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: prompt }] });
    else if (dialect === 'responses') await openai.responses.create({ model: 'sonnet', input: prompt });
    else await anthropic.messages.create({ model: 'sonnet', max_tokens: 100, messages: [{ role: 'user', content: prompt }] });
  } catch (e) {
    if (dialect === 'anthropic') {
      assert.ok(e instanceof Anthropic.APIError, String(e));
      const body = e.error as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error', "Anthropic's error shape");
      return { status: e.status!, type: body.error.type, message: body.error.message, retryAfter: e.headers?.get('retry-after') ?? null };
    }
    assert.ok(e instanceof OpenAI.APIError, String(e));
    const body = e.error as { type: string; code?: string; message: string };
    return { status: e.status!, type: body.type, code: body.code, message: body.message, retryAfter: e.headers?.get('retry-after') ?? null };
  }
  assert.fail(`${dialect}: the refusal ${kind} was answered`);
}

/** What may never reach a client of the refusal bodies: the organisation's id, the upstream's address. */
function clean(message: string) {
  assert.doesNotMatch(message, /5b1c9a0e|127\.0\.0\.1|sk-ant/, 'no organisation id, upstream address or credential');
}

describe("Anthropic's refusals reach the user", () => {
  for (const dialect of ['chat', 'responses', 'anthropic'] as const) {
    test(`${dialect}: an organisation's policy (403 permission_error) with the API's reason`, async () => {
      const r = await refused(dialect, 'org-policy');
      assert.equal(r.status, 403);
      assert.equal(r.type, 'permission_error');
      if (dialect !== 'anthropic') assert.equal(r.code, 'upstream_permission_denied');
      assert.ok(r.message.startsWith(PERMISSION_HINT), 'the guidance first');
      assert.match(r.message, /The Anthropic API said: Your organization’s policy does not allow this request: Claude Code access has been disabled by an administrator of organization \[id\]\.$/);
      clean(r.message);
    });
  }

  test('anthropic: a model the plan does not include (403), with the link to upgrade', async () => {
    const r = await refused('anthropic', 'model-not-in-plan');
    assert.equal(r.status, 403);
    assert.equal(r.type, 'permission_error');
    assert.match(r.message, /The Anthropic API said: Your current plan does not include access to claude-opus-4-1\. Upgrade your plan at https:\/\/claude\.ai\/upgrade to use this model\.$/);
    clean(r.message);
  });

  test('responses: a context size the plan does not include (400)', async () => {
    const r = await refused('responses', 'context-not-in-plan');
    assert.equal(r.status, 400);
    assert.equal(r.type, 'invalid_request_error');
    assert.equal(r.code, 'upstream_invalid_request');
    assert.equal(r.message, `The Anthropic API rejected the request: ${REFUSALS['context-not-in-plan'].message}`);
  });

  test('chat: extra usage required (429), with Retry-After', async () => {
    const r = await refused('chat', 'extra-usage-required');
    assert.equal(r.status, 429);
    assert.equal(r.type, 'rate_limit_error');
    assert.equal(r.code, 'upstream_rate_limited');
    assert.ok(r.retryAfter, 'Retry-After');
    assert.equal(r.message, 'The Anthropic API rate limit was reached; retry after the indicated delay. The Anthropic API said: Extra usage is required for long context requests.');
  });

  test('anthropic: extra usage used up (429 rate_limit_error), with the usage page', async () => {
    const r = await refused('anthropic', 'extra-usage-exhausted');
    assert.equal(r.status, 429);
    assert.equal(r.type, 'rate_limit_error');
    assert.match(r.message, /The Anthropic API said: You have used all of your extra usage for this month\. Add more at https:\/\/claude\.ai\/settings\/usage or wait until it resets\.$/);
  });

  test('responses: a rate limit names the limit that was hit (429)', async () => {
    const r = await refused('responses', 'rate-limit');
    assert.equal(r.status, 429);
    assert.equal(r.type, 'rate_limit_error');
    assert.ok(r.retryAfter, 'Retry-After');
    assert.match(r.message, /^The Anthropic API rate limit was reached; retry after the indicated delay\. The Anthropic API said: This request would exceed the rate limit for your organization \(\[id\]\) of 30,000 input tokens per minute\. For details, refer to: https:\/\/docs\.claude\.com\/en\/api\/rate-limits\./);
    clean(r.message);
  });
});
