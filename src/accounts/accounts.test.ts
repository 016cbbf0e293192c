import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../config/config.js';
import { GatewayError } from '../errors.js';
import { createLogger } from '../log.js';
import { Accounts } from './accounts.js';
import { parseDeclaredAccounts } from './declared.js';
import { NoCredentialLeft } from './failures.js';
import { planLimitsOf } from './plan-limits.js';

function pool(accounts: object[], now = { t: 1_000_000_000_000 }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-acc-'));
  const a = new Accounts({ dataDir, env: { GATEWAY_ACCOUNTS: JSON.stringify(accounts) }, log: createLogger('silent'), defaultSource: () => undefined, now: () => now.t });
  return { a, now };
}
const limited = (sec = 60) => new GatewayError('rate_limited', 'x', { retryAfterSec: sec, code: 'upstream_rate_limited' });

test('GATEWAY_ACCOUNTS: bad values stop start-up with a message that names them', () => {
  assert.throws(() => parseDeclaredAccounts('{nope'), (e) => e instanceof ConfigError && /not valid JSON/.test(e.message));
  assert.throws(() => parseDeclaredAccounts('[{"name":"a","api_key":"sk-ant-api03-xxxxxxxx"},{"name":"a","api_key":"sk-ant-api03-yyyyyyyy"}]'), /appears twice/);
  assert.throws(() => parseDeclaredAccounts('[{"name":"a"}]'), /exactly one of oauth_token/);
  assert.throws(() => parseDeclaredAccounts('[{"name":"a","env":{"PATH":"/x"}}]'), /GATEWAY_ACCOUNTS\[0\.env\].*credential variables/);
  assert.throws(() => parseDeclaredAccounts('[{"name":"a","api_key":"sk-ant-api03-xxxxxxxx","role":"boss"}]'), /GATEWAY_ACCOUNTS\[0\.role\]/);
  const ok = parseDeclaredAccounts('[{"name":"bedrock","env":{"CLAUDE_CODE_USE_BEDROCK":"1","AWS_REGION":"us-east-1"},"role":"overflow"},{"name":"default","priority":4}]');
  assert.deepEqual(ok.accounts[0].env, { CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'us-east-1' });
  assert.deepEqual(ok.defaults, { priority: 4, role: 'primary' });
});

test('pick: priority, then the lowest plan utilisation, then the least recently limited; a conversation keeps its own', () => {
  const { a, now } = pool([
    { name: 'a', api_key: 'sk-ant-api03-aaaaaaaa', priority: 1 },
    { name: 'b', api_key: 'sk-ant-api03-bbbbbbbb', priority: 1 },
    { name: 'c', api_key: 'sk-ant-api03-cccccccc', priority: 2 },
  ]);
  assert.equal(a.pick(), 'a');
  a.onRateLimit('a', { status: 'allowed', unifiedWindows: { five_hour: { utilization: 0.8, resetsAt: 2e9 } } });
  a.onRateLimit('b', { status: 'allowed', unifiedWindows: { five_hour: { utilization: 0.3, resetsAt: 2e9 } } });
  assert.equal(a.pick(), 'b', 'lower utilisation at equal priority');
  assert.equal(a.pick('a'), 'a', 'sticky');
  assert.equal(a.pick('c'), 'c', 'sticky even at a lower priority');
  a.onFailure('b', limited(10));
  assert.equal(a.pick('b'), 'a', 'moves when its own is limited');
  now.t += 11_000;
  a.onRateLimit('b', { status: 'allowed', unifiedWindows: { five_hour: { utilization: 0.8, resetsAt: 2e9 } } });
  assert.equal(a.pick(), 'a', 'equal utilisation: the least recently limited');
  assert.equal(a.pick(undefined, new Set(['a', 'b'])), 'c');
  assert.throws(() => a.pick(undefined, new Set(['a', 'b', 'c'])), NoCredentialLeft);
});

test('all limited: a 429 with the earliest reset; a plan window that is paid for as overage does not limit', () => {
  const { a, now } = pool([
    { name: 'a', api_key: 'sk-ant-api03-aaaaaaaa' },
    { name: 'b', api_key: 'sk-ant-api03-bbbbbbbb' },
  ]);
  a.onRateLimit('a', { status: 'rejected', rateLimitType: 'seven_day', resetsAt: now.t / 1000 + 900, isUsingOverage: true });
  assert.equal(a.snapshot()[0].state, 'active', 'overage pays');
  a.onRateLimit('a', { status: 'rejected', rateLimitType: 'seven_day', resetsAt: now.t / 1000 + 900 });
  a.onFailure('b', limited(300));
  assert.equal(a.pick(), 'b', 'a 429 may be over sooner: the first try goes to the one that cools down first');
  const is429 = (sec: number, code: string) => (e: unknown) => e instanceof GatewayError && e.status === 429 && e.extra.retryAfterSec === sec && e.extra.code === code;
  assert.throws(() => a.pick(undefined, new Set(['b'])), is429(300, 'upstream_rate_limited'), 'its retry: all limited, the earliest reset');
  a.onRateLimit('b', { status: 'rejected', rateLimitType: 'five_hour', resetsAt: now.t / 1000 + 600 });
  assert.throws(() => a.pick(), is429(600, 'plan_limit_reached'), 'every plan used up: 429 before any turn');
  now.t += 601_000;
  assert.equal(a.pick(), 'b');
  assert.deepEqual(
    a.snapshot().map((s) => [s.name, s.state, s.reason]),
    [
      ['a', 'cooling_down', 'plan limit reached (seven_day)'],
      ['b', 'active', null],
    ],
  );
});

test('a lone credential that got a 429 or an overload is still tried (the failure stands), one at its plan limit is not', () => {
  const { a, now } = pool([]);
  const b = new Accounts({ dataDir: a.store.file.replace(/\/[^/]+$/, ''), env: {}, log: createLogger('silent'), now: () => now.t,
    defaultSource: () => ({ id: 'env_api_key', method: 'api_key', source: 'env', env: {}, fingerprint: 'f', masked: null, expiresAt: null, subscription: null }) });
  b.onFailure('default', limited(30));
  assert.equal(b.pick('default'), 'default');
  assert.throws(() => b.pick('default', new Set(['default'])), NoCredentialLeft);
  b.onRateLimit('default', { status: 'rejected', rateLimitType: 'five_hour', resetsAt: now.t / 1000 + 60 });
  assert.throws(() => b.pick('default'), (e) => e instanceof GatewayError && e.extra.code === 'plan_limit_reached' && /The Claude credential of this gateway is at its plan limit/.test(e.message));
});

test('refused credentials are skipped; when all are refused the first try still runs (and fails as before)', () => {
  const { a } = pool([
    { name: 'a', api_key: 'sk-ant-api03-aaaaaaaa' },
    { name: 'b', api_key: 'sk-ant-api03-bbbbbbbb' },
  ]);
  a.onFailure('a', new GatewayError('upstream_auth', 'x'));
  assert.equal(a.pick('a'), 'b');
  a.onFailure('b', new GatewayError('permission', 'x', { code: 'upstream_permission_denied' }));
  assert.equal(a.pick('b'), 'b');
  assert.throws(() => a.pick(undefined, new Set(['a'])), NoCredentialLeft);
  assert.equal(a.onFailure('a', new GatewayError('invalid_request', 'x')), false, 'a bad request is not the credential');
});

test('planLimitsOf keeps the windows the CLI reports, in ISO time', () => {
  const p = planLimitsOf({ status: 'allowed_warning', resetsAt: 1_800_000_000, rateLimitType: 'five_hour', utilization: 0.9, overageStatus: 'rejected' }, 0)!;
  assert.deepEqual(p.windows, { five_hour: { utilization: 0.9, resets_at: '2027-01-15T08:00:00.000Z' } });
  assert.equal(p.overage_status, 'rejected');
  assert.equal(planLimitsOf({ status: 'weird' }), undefined);
});
