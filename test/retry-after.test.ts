// Retry-After is derived from what the CLI reports: its api_retry frames carry the delay it would
// wait (the upstream's retry-after plus jitter). A wait longer than maxRetryWaitMs is not sat out:
// the client gets the 429 at once, with that delay.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({ cliMaxRetries: 2, maxRetryWaitMs: 2_000 });
});
after(() => h.close());

test('an upstream 429 with retry-after 7 becomes a 429 with Retry-After of 7 s plus the CLI jitter, without the CLI sitting out the wait', async () => {
  const before = h.upstream.requests.length;
  const res = await fetch(`${h.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sonnet', messages: [{ role: 'user', content: '[[status:429]]' }] }),
  });
  assert.equal(res.status, 429);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 7 && retryAfter <= 10, `Retry-After ${retryAfter}`);
  assert.equal(h.upstream.requests.length - before, 1, 'the CLI did not retry');
  const json = (await res.json()) as any;
  assert.equal(json.error.code, 'upstream_rate_limited');
});
