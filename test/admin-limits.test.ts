// An app key's requests per minute, tokens per minute and token budgets through the real clients in
// each dialect: the request over a limit is a 429 in the dialect's own error shape that names the
// limit, with Retry-After until the window rolls over, and starts no CLI turn.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { minuteOf, secondsToNextDay } from '../src/admin/periods.js';
import { adminTools, errorOf, refusal } from './support/admin.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
});
after(() => h.close());

const { createKey, openai, anthropic, dialects } = adminTools(() => h);

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
