// The API's own message in the CLI's report of a refusal: found after the CLI's prefix, and
// stripped of what must not reach a client (credentials, addresses but Anthropic's public pages,
// paths, ids), clipped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiMessage, mapUpstreamFailure, PERMISSION_HINT } from './upstream-errors.js';

test("the API's message after each of the CLI's prefixes", () => {
  assert.equal(apiMessage('Failed to authenticate. API Error: 403 Not for you.'), 'Not for you.');
  assert.equal(apiMessage('API Error: Request rejected (429) · Extra usage is required for long context requests.'), 'Extra usage is required for long context requests.');
  assert.equal(apiMessage('API Error: 400 The long context beta is not yet available for this subscription.'), 'The long context beta is not yet available for this subscription.');
  assert.equal(apiMessage("You've hit your limit · resets 3pm"), '', 'the CLI\'s own words are not the API\'s');
  assert.equal(apiMessage(undefined), '');
});

test('no credential, no upstream address, no path, no id; Anthropic links stay; clipped', () => {
  const said = apiMessage(
    'API Error: 403 Key sk-ant-api03-abcDEF_123 with Bearer eyJhbGciOi.x.y refused by http://10.0.0.5:8080/v1/messages (proxy.internal:3128) ' +
      'for org 5b1c9a0e-2f3d-4c8b-9a7e-1d2c3b4a5f6e, see /home/gw/.claude-code-gateway/claude-home/x.json or https://docs.claude.com/en/api/rate-limits.',
  );
  assert.doesNotMatch(said, /sk-ant|eyJ|10\.0\.0\.5|proxy\.internal|5b1c9a0e|\/home\/gw/);
  assert.match(said, /\[credential\].*\[credential\].*\[upstream\].*\[upstream\].*\[id\].*\[path\]/);
  assert.match(said, /https:\/\/docs\.claude\.com\/en\/api\/rate-limits\.$/);
  assert.doesNotMatch(apiMessage('API Error: 403 see https://claude.ai.evil.example/x'), /evil/, 'a look-alike host is an address');
  assert.ok(apiMessage(`API Error: 429 ${'x'.repeat(1000)}`).length <= 301);
  assert.equal(apiMessage('API Error: 429 Limit resets at 15:30 UTC, see 10.1.2.3:8443.'), 'Limit resets at 15:30 UTC, see [upstream].', 'a time of day is not an address');
  // Apostrophes far apart are not taken for a quoted value and clipped by the error backstop.
  const far = mapUpstreamFailure({ status: 429, text: `API Error: 429 You've hit ${'a limit '.repeat(12)}that can't be raised.` }, 5);
  assert.match(far.message, /You’ve hit .*can’t be raised\.$/);
});

test('403 and 429 keep the guidance and add what the API said', () => {
  const p = mapUpstreamFailure({ status: 403, error: 'authentication_failed', apiErrorType: 'permission_error', text: 'Failed to authenticate. API Error: 403 Disabled by your admin.' }, 5);
  assert.equal(p.message, `${PERMISSION_HINT} The Anthropic API said: Disabled by your admin.`);
  const r = mapUpstreamFailure({ status: 429, error: 'rate_limit', text: 'API Error: Request rejected (429) · Over 30,000 input tokens per minute.' }, 5);
  assert.match(r.message, /^The Anthropic API rate limit was reached; retry after the indicated delay\. The Anthropic API said: Over 30,000 input tokens per minute\.$/);
  assert.equal(mapUpstreamFailure({ status: 429, error: 'rate_limit' }, 5).message, 'The Anthropic API rate limit was reached; retry after the indicated delay.', 'a cut retry has no message');
});
