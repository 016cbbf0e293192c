// A Redis outage under a gateway with app keys: keys cannot be made or revoked (503, so no replica
// diverges), keys it knows go on working from its disk mirror, and turns are counted on its disk.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY } from './support/harness.js';
import { startRedis } from './support/redis.js';

test('a Redis outage: keys cannot be made or revoked (503), known keys go on working and their turns are still counted', async () => {
  const own = await startRedis();
  const h = await startHarness({ redisUrl: own.url });
  let killed = false;
  try {
    const post = (body: unknown) => fetch(`${h.gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const k = (await (await post({ name: 'through the outage', daily_tokens: 1_000_000 })).json()) as { id: string; key: string };
    const client = new OpenAI({ baseURL: h.baseURL, apiKey: k.key, maxRetries: 0 });
    assert.equal((await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:before]]' }] })).choices[0].message.content, 'before');

    await own.kill();
    killed = true;
    const refused = await post({ name: 'during the outage' });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as any).error.code, 'key_store_unavailable');
    assert.equal(refused.headers.get('retry-after'), '5');
    const revoke = await fetch(`${h.gw.url}/admin/keys/${k.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_KEY}` } });
    assert.equal(revoke.status, 503);

    const r = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:during]]' }] });
    assert.equal(r.choices[0].message.content, 'during', 'the key is known from the mirror on disk');
    await h.gw.admin.flush();
    const totals = await h.gw.admin.usage.totals(k.id, new Date().toISOString().slice(0, 10));
    assert.equal(totals.requests, 1, 'during the outage this replica counts on its own disk');
  } finally {
    await h.close();
    if (!killed) await own.stop();
    else await own.stop().catch(() => {});
  }
});
