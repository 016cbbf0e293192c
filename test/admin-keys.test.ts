// App keys through the real clients (openai, @anthropic-ai/sdk) against the real gateway and CLI:
// the admin key makes, lists and revokes them; an app key reaches the model APIs only; its model
// allowlist (in each dialect's own error shape) and expiry are enforced, a revocation at once; bad
// admin input is a clear 400/404. Rate limits and budgets: admin-limits.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminTools, errorOf, refusal } from './support/admin.js';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
});
after(() => h.close());

const { admin, createKey, openai, anthropic, dialects } = adminTools(() => h);

describe('the admin API', () => {
  test('creates a key shown once, lists it with its usage, revokes it', async () => {
    const created = await admin('POST', '/admin/keys', { name: 'ci bot', models: ['sonnet'], rpm: 60, tpm: 100000, daily_tokens: 1e6, monthly_tokens: 2e7 });
    assert.equal(created.status, 201);
    const k = created.json;
    assert.match(k.key, /^sk-gw-[A-Za-z0-9_-]{43}$/);
    assert.ok(k.key.startsWith(k.prefix));
    assert.match(k.id, /^key_/);
    assert.deepEqual(
      { name: k.name, models: k.models, rpm: k.rpm, tpm: k.tpm, daily: k.daily_tokens, monthly: k.monthly_tokens, expires: k.expires_at },
      { name: 'ci bot', models: ['sonnet'], rpm: 60, tpm: 100000, daily: 1e6, monthly: 2e7, expires: null },
    );

    const listed = await admin('GET', '/admin/keys');
    assert.equal(listed.status, 200);
    const row = listed.json.data.find((r: any) => r.id === k.id);
    assert.ok(row, 'listed');
    assert.equal(row.key, undefined, 'the key itself is never shown again');
    assert.equal(JSON.stringify(listed.json).includes(k.key), false);
    assert.equal(row.revoked_at, null);
    assert.deepEqual(row.usage.today, { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 });

    const revoked = await admin('DELETE', `/admin/keys/${k.id}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.json.id, k.id);
    assert.ok(Date.parse(revoked.json.revoked_at) > 0);
    const again = await admin('GET', '/admin/keys');
    assert.equal(again.json.data.find((r: any) => r.id === k.id).revoked_at, revoked.json.revoked_at);
  });

  test('bad input: clear 400s and 404s, and the gateway goes on', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /name/],
      [{ name: '' }, /name/],
      [{ name: 'x', rpm: -1 }, /rpm/],
      [{ name: 'x', tpm: 0 }, /tpm/],
      [{ name: 'x', daily_tokens: 1.5 }, /daily_tokens/],
      [{ name: 'x', monthly_tokens: 'lots' }, /monthly_tokens/],
      [{ name: 'x', expires_at: '2001-01-01T00:00:00Z' }, /expires_at.*past/],
      [{ name: 'x', expires_at: 'tomorrow' }, /expires_at/],
      [{ name: 'x', models: [] }, /models/],
      [{ name: 'x', models: ['no-such-model'] }, /no-such-model/],
      [{ name: 'x', admin: true }, /admin|unrecognized/i],
      ['{"name": ', /JSON/i],
      [[1, 2], /object/i],
    ];
    for (const [body, message] of cases) {
      const r = await admin('POST', '/admin/keys', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status}`);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.match(r.json.error.message, message, JSON.stringify(body));
    }
    const unknown = await admin('DELETE', '/admin/keys/key_nope');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /key_nope/);
    for (const q of ['from=2026-13-01', 'to=yesterday', 'from=2026-02-02&to=2026-02-01', 'format=xml', 'from=2020-01-01&to=2026-01-01', 'colour=red']) {
      const r = await admin('GET', `/admin/usage?${q}`);
      assert.equal(r.status, 400, q);
      assert.ok(r.json.error.message, q);
    }
    assert.equal((await admin('GET', '/admin/keys')).status, 200);
  });
});

describe('an app key', () => {
  test('calls the model APIs, and gets 403 on admin, auth, stats and metrics routes; an unknown key 401', async () => {
    const { key } = await createKey({ name: 'app' });
    const r = await openai(key).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:hello app]]' }] });
    assert.equal(r.choices[0].message.content, 'hello app');
    const m = await anthropic(key).messages.create({ model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: '[[reply:hello too]]' }] });
    assert.deepEqual(m.content, [{ type: 'text', text: 'hello too' }]);
    assert.ok((await openai(key).models.list()).data.length > 0);

    for (const [method, path] of [
      ['GET', '/admin/keys'],
      ['POST', '/admin/keys'],
      ['DELETE', '/admin/keys/key_x'],
      ['GET', '/admin/usage'],
      ['GET', '/auth'],
      ['GET', '/auth/status'],
      ['GET', '/stats'],
      ['GET', '/metrics'],
      ['GET', '/dashboard'],
    ]) {
      const res = await admin(method, path, method === 'POST' ? { name: 'sneaky' } : undefined, key);
      assert.equal(res.status, 403, `${method} ${path}`);
      // /metrics and /dashboard may answer with guards of their own; the rest is the key check's.
      if (!['/metrics', '/dashboard'].includes(path)) assert.equal(res.json.error.code, 'admin_key_required', `${method} ${path}`);
    }
    const unknown = await admin('GET', '/v1/models', undefined, `sk-gw-${'A'.repeat(43)}`);
    assert.equal(unknown.status, 401);
    assert.equal(unknown.json.error.code, 'invalid_api_key');
    assert.equal((await admin('GET', '/admin/keys')).status, 200, 'the admin key still may');
  });

  for (const [dialect, call] of dialects) {
    test(`${dialect}: a model outside the allowlist is a 403 naming the allowed ones, before any CLI turn`, async () => {
      const { key } = await createKey({ name: `haiku only ${dialect}`, models: ['haiku'] });
      const before = h.upstream.requests.length;
      const err = await refusal(call(key, '[[reply:never]]'));
      assert.equal(err.status, 403);
      const e = errorOf(dialect, err.body);
      assert.equal(e.type, 'permission_error');
      assert.match(e.message, /may not use the model 'sonnet'.*haiku/);
      if (dialect !== 'anthropic') assert.equal(e.code, 'model_not_allowed');
      assert.equal(h.upstream.requests.length, before, 'no upstream request');
      if (dialect === 'openai-chat') {
        const listed = (await openai(key).models.list()).data.map((m) => m.id);
        assert.ok(listed.includes('haiku') && !listed.includes('sonnet'), `the key lists the models it may use: ${listed}`);
      }
    });

  }

  test('expiry: a key works until its expires_at, then is a 401 that says so', async () => {
    const expires = Date.now() + 2_000;
    const { key } = await createKey({ name: 'short-lived', expires_at: new Date(expires).toISOString() });
    const r = await openai(key).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:still valid]]' }] });
    assert.equal(r.choices[0].message.content, 'still valid');
    await until(() => Date.now() > expires, 'the expiry time', 5_000);
    const err = await refusal(openai(key).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(err.status, 401);
    assert.equal(err.body.code, 'key_expired');
  });

  test('revocation takes effect on the very next request', async () => {
    const { id, key } = await createKey({ name: 'to revoke' });
    const client = anthropic(key);
    await client.messages.create({ model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: '[[reply:before]]' }] });
    assert.equal((await admin('DELETE', `/admin/keys/${id}`)).status, 200);
    const err = await refusal(client.messages.create({ model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: '[[reply:after]]' }] }));
    assert.equal(err.status, 401);
    assert.equal(err.body.error.type, 'authentication_error');
    assert.match(err.body.error.message, /revoked/);
  });
});

describe('the /auth session', () => {
  test('signs in to the admin API too; a write without its CSRF token is refused', async () => {
    const res = await fetch(`${h.gw.url}/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.gw.url },
      body: new URLSearchParams({ key: TEST_KEY }),
      redirect: 'manual',
    });
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    assert.ok(cookie, `a session cookie (status ${res.status})`);
    const list = await fetch(`${h.gw.url}/admin/keys`, { headers: { cookie } });
    assert.equal(list.status, 200);
    const write = await fetch(`${h.gw.url}/admin/keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) });
    assert.equal(write.status, 403);
    const none = await fetch(`${h.gw.url}/admin/keys`);
    assert.equal(none.status, 401);
  });
});
