// Key guessing is slowed: an address that keeps presenting wrong keys (to the API or to /auth) is
// refused with 429 and a growing Retry-After, in the dialect's error shape, and logged at warn without
// the key; other addresses go on as before. Forwarded addresses count only from trusted proxies.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { Context } from 'hono';
import OpenAI from 'openai';
import { loadConfig } from '../src/config/config.js';
import { AuthThrottle, clientAddress, parseTrustProxy } from '../src/http/auth-throttle.js';
import { startLoggedGateway, type LoggedGateway } from './support/capture-log.js';
import { TEST_KEY } from './support/harness.js';

describe('AuthThrottle', () => {
  const opts = (now: { t: number }) => ({ freeFailures: 5, baseBlockMs: 1000, maxBlockMs: 8000, forgetMs: 60_000, maxEntries: 3, now: () => now.t });

  test('five free failures, then a refusal that doubles with each further failure, up to the cap', () => {
    const now = { t: 0 };
    const t = new AuthThrottle(opts(now));
    for (let i = 0; i < 4; i++) assert.equal(t.fail('a'), undefined);
    assert.equal(t.retryAfter('a'), undefined);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const w = t.fail('a')!;
      assert.equal(t.retryAfter('a'), w, 'refused from the failure on');
      assert.equal(t.retryAfter('b'), undefined, 'another address is not');
      waits.push(w);
      now.t += w * 1000; // the refusal has passed: the next attempt fails again
      assert.equal(t.retryAfter('a'), undefined);
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 8, 8]);
  });

  test('an address quiet for the forget time starts again; the table is bounded', () => {
    const now = { t: 0 };
    const t = new AuthThrottle(opts(now));
    for (let i = 0; i < 5; i++) t.fail('a');
    assert.equal(t.retryAfter('a'), 1);
    now.t += 61_000;
    assert.equal(t.retryAfter('a'), undefined);
    assert.equal(t.fail('a'), undefined, 'counting starts from zero');
    for (const a of ['b', 'c', 'd', 'e']) t.fail(a);
    assert.equal(t.size, 3, 'at most maxEntries addresses');
  });

  test('0 free failures turns it off', () => {
    const t = new AuthThrottle({ ...opts({ t: 0 }), freeFailures: 0 });
    for (let i = 0; i < 20; i++) assert.equal(t.fail('a'), undefined);
    assert.equal(t.retryAfter('a'), undefined);
  });

  const ctx = (peer: string, headers: Record<string, string> = {}) =>
    ({ req: { header: (n: string) => headers[n.toLowerCase()] }, env: { incoming: { socket: { remoteAddress: peer } } } }) as unknown as Context;

  test('the client address: the peer, unless a trusted proxy forwarded the request', () => {
    const none = parseTrustProxy([]);
    assert.equal(clientAddress(ctx('10.0.0.5', { 'x-forwarded-for': '1.2.3.4' }), none), '10.0.0.5', 'no trusted proxy: the header is ignored');
    assert.equal(clientAddress(ctx('::ffff:10.0.0.5'), none), '10.0.0.5');
    assert.equal(clientAddress(ctx('2001:db8:1:2:3:4:5:6'), none), '2001:db8:1:2::/64', 'IPv6 counts by /64');

    const ranges = parseTrustProxy(['10.0.0.0/8', '192.168.1.1']);
    assert.equal(clientAddress(ctx('10.0.0.5', { 'x-forwarded-for': '9.9.9.9, 1.2.3.4, 192.168.1.1' }), ranges), '1.2.3.4', 'the nearest untrusted address');
    assert.equal(clientAddress(ctx('8.8.8.8', { 'x-forwarded-for': '1.2.3.4' }), ranges), '8.8.8.8', 'an untrusted peer names itself');
    assert.equal(clientAddress(ctx('10.0.0.5', { forwarded: 'for=198.51.100.7;proto=https, for="[2001:db8::1]:443"' }), ranges), '2001:db8:0:0::/64');
    assert.equal(clientAddress(ctx('10.0.0.5', { forwarded: 'for=198.51.100.7:8080' }), ranges), '198.51.100.7');
    assert.equal(clientAddress(ctx('127.0.0.1', { 'x-forwarded-for': '1.2.3.4' }), parseTrustProxy(['loopback'])), '1.2.3.4');

    const hops = parseTrustProxy(['1']);
    assert.deepEqual(hops, { hops: 1 });
    assert.equal(clientAddress(ctx('10.0.0.5', { 'x-forwarded-for': '9.9.9.9, 1.2.3.4' }), hops), '1.2.3.4', 'one hop: the address the proxy saw');
    assert.equal(clientAddress(ctx('10.0.0.5'), hops), '10.0.0.5');
  });

  test('GATEWAY_TRUST_PROXY and the throttle settings come from env', () => {
    const c = loadConfig({ GATEWAY_TRUST_PROXY: '10.0.0.0/8, loopback', GATEWAY_AUTH_FREE_FAILURES: '3', GATEWAY_AUTH_MAX_BLOCK_SEC: '60' });
    assert.deepEqual(c.trustProxy, ['10.0.0.0/8', 'loopback']);
    assert.equal(c.authFreeFailures, 3);
    assert.equal(c.authMaxBlockSec, 60);
    assert.equal(loadConfig({}).drainTimeoutMs, 8000, 'fits a 10 s container stop');
  });
});

/** A GET from a chosen local address (the gateway sees it as the peer). */
function getFrom(url: string, localAddress: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
}

describe('through the gateway, peer addresses', () => {
  let g: LoggedGateway;
  before(async () => {
    g = await startLoggedGateway();
  });
  after(() => g.close());

  test('an address guessing keys is refused with 429 in each dialect; another address is not', async () => {
    const wrong = new OpenAI({ baseURL: `${g.gw.url}/v1`, apiKey: 'sk-guess-000000001', maxRetries: 0 });
    for (let i = 0; i < 5; i++) await assert.rejects(wrong.models.list(), (e: any) => e instanceof OpenAI.AuthenticationError);
    await assert.rejects(wrong.models.list(), (e: any) => {
      assert.ok(e instanceof OpenAI.RateLimitError, String(e));
      assert.equal(e.code, 'too_many_auth_failures');
      assert.ok(Number(e.headers.get('retry-after')) >= 1);
      return true;
    });
    const anthropic = new Anthropic({ baseURL: g.gw.url, apiKey: 'sk-guess-000000002', maxRetries: 0 });
    await assert.rejects(anthropic.messages.create({ model: 'sonnet', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), (e: any) => {
      assert.ok(e instanceof Anthropic.RateLimitError, String(e));
      const body = e.error as any;
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'rate_limit_error');
      return true;
    });
    // The refused address is not told whether a key is right, and a forwarded header from an
    // untrusted peer changes nothing.
    const right = new OpenAI({ baseURL: `${g.gw.url}/v1`, apiKey: TEST_KEY, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': '203.0.113.50' } });
    await assert.rejects(right.models.list(), (e: any) => e instanceof OpenAI.RateLimitError);
    // /auth's key check shares the count.
    const auth = await fetch(`${g.gw.url}/auth/status`, { headers: { authorization: 'Bearer sk-guess-000000003' } });
    assert.equal(auth.status, 429);
    assert.equal(((await auth.json()) as any).error.code, 'too_many_auth_failures');

    // Another address: its right key works, its wrong key is an ordinary 401.
    const ok = await getFrom(`${g.gw.url}/v1/models`, '127.0.0.2', { authorization: `Bearer ${TEST_KEY}` });
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(ok.body.data));
    const bad = await getFrom(`${g.gw.url}/v1/models`, '127.0.0.2', { authorization: 'Bearer sk-guess-000000004' });
    assert.equal(bad.status, 401);

    // Logged at warn with the address, never the key.
    const warn = g.lines.find((l) => l.msg?.includes('authentication failures'));
    assert.ok(warn, 'a warn line');
    assert.equal(warn.level, 40);
    assert.equal(warn.client, '127.0.0.1');
    for (const l of g.raw) assert.ok(!/sk-guess-|test-key-/.test(l), `no key in the log: ${l}`);
  });
});

describe('behind a trusted proxy', () => {
  let g: LoggedGateway;
  before(async () => {
    g = await startLoggedGateway({ trustProxy: ['loopback'], authFreeFailures: 2 });
  });
  after(() => g.close());

  const FORM = 'application/x-www-form-urlencoded';
  const login = (client: string, key: string) =>
    fetch(`${g.gw.url}/auth/session`, { method: 'POST', redirect: 'manual', headers: { 'content-type': FORM, origin: g.gw.url, 'x-forwarded-for': client }, body: new URLSearchParams({ key }) });

  test('the /auth sign-in form is throttled per forwarded client; another client signs in', async () => {
    assert.equal((await login('198.51.100.1', 'wrong-key-1')).status, 401);
    assert.equal((await login('198.51.100.1', 'wrong-key-2')).status, 401);
    const refused = await login('198.51.100.1', TEST_KEY);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.match(await refused.text(), /Too many wrong keys/);

    const other = await login('198.51.100.2', TEST_KEY);
    assert.equal(other.status, 303, 'another client signs in');
    assert.ok(g.lines.some((l) => l.level === 40 && l.client === '198.51.100.1'));
  });

  test('API key failures count per forwarded client', async () => {
    const as = (client: string, key: string) => new OpenAI({ baseURL: `${g.gw.url}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': client } });
    for (let i = 0; i < 2; i++) await assert.rejects(as('198.51.100.3', 'sk-guess-1234567').models.list(), (e: any) => e instanceof OpenAI.AuthenticationError);
    await assert.rejects(as('198.51.100.3', 'sk-guess-1234567').models.list(), (e: any) => e instanceof OpenAI.RateLimitError);
    const page = await as('198.51.100.4', TEST_KEY).models.list();
    assert.ok(page.data.length > 0);
  });
});
