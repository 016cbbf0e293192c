// Claude plan limits (issue 12, item 4): for a subscription login the CLI reads the API's
// anthropic-ratelimit-unified-* headers and reports the 5-hour and weekly windows in a rate_limit_event.
// The gateway keeps the latest per credential, shows it on /auth/status, and once a window is exhausted
// answers 429 with Retry-After until its reset, in each dialect's shape, without starting a CLI turn.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { credentialOf, unifiedRateLimitHeaders } from './support/fake-upstream.js';
import { modelRequests } from './support/conversation.js';
import { startHarness, TEST_KEY } from './support/harness.js';
import { status } from './support/accounts.js';

const TOKEN = 'sk-ant-oat01-plan-default-000000000000000000000';
const SECOND = 'sk-ant-oat01-plan-second-000000000000000000000';
const subscription = (more: NodeJS.ProcessEnv = {}) => ({ env: { ANTHROPIC_API_KEY: undefined, CLAUDE_CODE_OAUTH_TOKEN: TOKEN, ...more } });
const nowSec = () => Math.floor(Date.now() / 1000);
/** Within a minute: the figures told apart here are 600 / 1800 / 3600 s, and a loaded machine takes seconds per turn. */
const near = (actual: number, expected: number, what: string) => assert.ok(actual <= expected + 1 && actual >= expected - 60, `${what}: ${actual}, expected about ${expected}`);

test('plan windows are kept per credential and shown; an exhausted window is a 429 until its reset in every dialect, with no CLI turn', async () => {
  const h = await startHarness({}, subscription());
  try {
    const fiveHour = { utilization: 0.42, resetsAt: nowSec() + 3 * 3600 };
    const sevenDay = { utilization: 0.13, resetsAt: nowSec() + 4 * 86400 };
    h.upstream.credentials.set(TOKEN, { headers: unifiedRateLimitHeaders({ status: 'allowed', fiveHour, sevenDay }) });
    const openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
    const ok = await openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:fine]]' }] });
    assert.equal(ok.choices[0].message.content, 'fine');
    let s = await status(h);
    assert.equal(s.plan.status, 'allowed');
    assert.equal(s.plan.window, 'five_hour');
    assert.deepEqual(s.plan.windows.five_hour, { utilization: 0.42, resets_at: new Date(fiveHour.resetsAt * 1000).toISOString() });
    assert.deepEqual(s.plan.windows.seven_day, { utilization: 0.13, resets_at: new Date(sevenDay.resetsAt * 1000).toISOString() });
    assert.deepEqual(s.accounts[0].plan, s.plan);
    assert.equal(s.accounts[0].state, 'active');

    // The 5-hour window runs out: the API refuses with 429 and says so in the headers.
    const reset = nowSec() + 1800;
    h.upstream.credentials.set(TOKEN, { status: 429, headers: unifiedRateLimitHeaders({ status: 'rejected', fiveHour: { utilization: 1, resetsAt: reset }, sevenDay }) });
    const refused = await fetch(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(refused.status, 429);
    near(Number(refused.headers.get('retry-after')), 1800, 'Retry-After is the time to the reset');
    s = await status(h);
    assert.equal(s.plan.status, 'rejected');
    assert.equal(s.accounts[0].state, 'cooling_down');
    assert.equal(s.accounts[0].cooling_down_until, new Date(reset * 1000).toISOString());

    // From now on, until the reset, no CLI turn starts: every dialect gets its own 429 at once.
    const asked = modelRequests(h.upstream).length;
    const started = h.gw.engine.spawned;
    const chat = await openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'again' }] }).catch((e) => e);
    assert.equal(chat.status, 429);
    assert.equal(chat.error.code, 'plan_limit_reached');
    assert.match(chat.error.message, /plan limit \(the five-hour window\)/);
    near(Number(chat.headers.get('retry-after')), 1800, 'chat Retry-After');
    const anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
    const msg = await anthropic.messages.create({ model: 'sonnet', max_tokens: 50, messages: [{ role: 'user', content: 'again' }] }).catch((e) => e);
    assert.equal(msg.status, 429);
    assert.equal(msg.error.error.type, 'rate_limit_error');
    near(Number(msg.headers.get('retry-after')), 1800, 'messages Retry-After');
    const streamed = await anthropic.messages.stream({ model: 'sonnet', max_tokens: 50, messages: [{ role: 'user', content: 'again' }] }).finalMessage().catch((e) => e);
    assert.equal(streamed.status, 429, 'a stream is refused with a real status');
    const resp = await openai.responses.create({ model: 'sonnet', input: 'again' }).catch((e) => e);
    assert.equal(resp.status, 429);
    assert.equal(resp.error.code, 'plan_limit_reached');
    assert.equal(modelRequests(h.upstream).length, asked, 'the upstream got no request');
    assert.equal(h.gw.engine.spawned, started, 'no CLI process was started for them');
  } finally {
    await h.close();
  }
});

test('every credential limited: a 429 with the earliest reset as Retry-After', async () => {
  const h = await startHarness({}, subscription({ GATEWAY_ACCOUNTS: JSON.stringify([{ name: 'second', oauth_token: SECOND, priority: 1 }]) }));
  try {
    const late = nowSec() + 3600;
    const early = nowSec() + 600;
    h.upstream.credentials.set(TOKEN, { status: 429, headers: unifiedRateLimitHeaders({ status: 'rejected', fiveHour: { utilization: 1, resetsAt: late } }) });
    h.upstream.credentials.set(SECOND, { status: 429, headers: unifiedRateLimitHeaders({ status: 'rejected', claim: 'seven_day', sevenDay: { utilization: 1, resetsAt: early } }) });
    const anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
    const first = await anthropic.messages.create({ model: 'sonnet', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    assert.equal(first.status, 429);
    near(Number(first.headers.get('retry-after')), 600, 'the earliest reset');
    assert.deepEqual(modelRequests(h.upstream).map((r) => credentialOf(r.headers)), [TOKEN, SECOND], 'both were tried');
    const again = await anthropic.messages.create({ model: 'sonnet', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    assert.equal(again.status, 429);
    assert.match(again.error.error.message, /Every Claude credential of this gateway is at its plan limit \(the seven-day window\)/);
    near(Number(again.headers.get('retry-after')), 600, 'still the earliest reset');
    assert.equal(modelRequests(h.upstream).length, 2, 'no request while all are limited');
    const s = await status(h);
    assert.deepEqual(s.accounts.map((a: any) => [a.name, a.state, a.cooling_down_until]), [
      ['default', 'cooling_down', new Date(late * 1000).toISOString()],
      ['second', 'cooling_down', new Date(early * 1000).toISOString()],
    ]);
  } finally {
    await h.close();
  }
});
