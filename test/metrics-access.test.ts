// Who may read /metrics: the gateway key or the scrape key (GATEWAY_METRICS_KEY), which opens nothing
// else; no key or a wrong key is a 401, an app key a 403. Requests are counted under the key's name.
// (Split from metrics.test.ts so each file fits the runner's per-file timeout on a loaded machine.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { parseProm, total, type Sample } from './support/prom.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

const SCRAPE_KEY = 'scrape-key-0123456789abcdef';

let h: Harness;

before(async () => {
  h = await startHarness({ metricsKey: SCRAPE_KEY, authFreeFailures: 20 }, { prewarm: ['sonnet'] });
});
after(() => h?.close());

async function scrape(key = TEST_KEY): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${h.gw.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, samples: parseProm(text) };
}

describe('who may scrape', () => {
  test('no key 401, a wrong key 401, the gateway key and the scrape key 200; the scrape key opens nothing else', async () => {
    const get = (path: string, key?: string) => fetch(`${h.gw.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    const none = await get('/metrics');
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.code, 'invalid_api_key');
    assert.equal((await get('/metrics', 'wrong-key-0123456789')).status, 401);
    assert.equal((await get('/metrics', TEST_KEY)).status, 200);
    // A scrape is counted once answered, under the scrape key's name: the next scrape shows it.
    const first = await scrape(SCRAPE_KEY);
    assert.equal(total(first.samples, 'ccg_requests_total', { route: '/metrics', key: 'metrics' }), 0);
    const again = await scrape(SCRAPE_KEY);
    assert.equal(total(again.samples, 'ccg_requests_total', { route: '/metrics', key: 'metrics', status: '200' }), 1);
    assert.equal(total(again.samples, 'ccg_requests_total', { route: '/metrics', key: 'none', status: '401' }), 2);
    for (const path of ['/v1/models', '/stats', '/dashboard', '/auth/status']) assert.equal((await get(path, SCRAPE_KEY)).status, 401, path);
  });

  test('an app key is refused with 403; its requests are counted under its name', async () => {
    const made = await fetch(`${h.gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci-bot' }) });
    assert.equal(made.status, 201);
    const { key } = await made.json();
    const refused = await fetch(`${h.gw.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error.code, 'admin_key_required');
    const bot = new OpenAI({ baseURL: h.baseURL, apiKey: key, maxRetries: 0 });
    const r = await bot.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'bot [[reply:beep]]' }] });
    const { samples } = await scrape();
    assert.equal(total(samples, 'ccg_requests_total', { route: '/v1/chat/completions', key: 'ci-bot', status: '200' }), 1);
    assert.equal(total(samples, 'ccg_tokens_total', { key: 'ci-bot', type: 'output' }), r.usage!.completion_tokens);
    assert.equal(total(samples, 'ccg_requests_total', { route: '/metrics', key: 'none', status: '403' }), 1);
  });
});
