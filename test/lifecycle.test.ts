// Disconnects, keepalive, the concurrency limit with its bounded queue, and draining on shutdown.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;

before(async () => {
  h = await startHarness({ maxConcurrency: 1, maxQueue: 1, keepaliveMs: 200, warmProfiles: 0, drainTimeoutMs: 20_000 });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

// Idle: no turn running and no CLI process but the live conversations' (a finished turn's process
// stays for its conversation's next turn).
const idle = () => h.gw.engine.liveProcesses() === h.gw.engine.conversations.live.size && h.upstream.open() === 0 && h.gw.engine.limiter.running === 0;

function streamRequest(content: string, signal?: AbortSignal) {
  return fetch(`${h.baseURL}/chat/completions`, {
    method: 'POST',
    signal,
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sonnet', stream: true, messages: [{ role: 'user', content }] }),
  });
}

/** A POST through node's own client (its response headers as sent, Connection included). */
function postJson(url: string, body: unknown, agent: http.Agent): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('lifecycle', () => {
  test('a silent model gets SSE comment keepalives, then the answer', async () => {
    const res = await streamRequest('[[wait:1200]] [[reply:late answer]]');
    assert.equal(res.status, 200);
    const body = await res.text();
    const firstContent = body.indexOf('"content":"late');
    const firstKeepalive = body.indexOf(': keepalive');
    assert.ok(firstContent > 0, 'the answer arrives');
    assert.ok(firstKeepalive >= 0 && firstKeepalive < firstContent, 'keepalive comments while the model is silent');
    assert.ok(body.trimEnd().endsWith('data: [DONE]'));
    await until(idle, 'the turn to clean up');
  });

  test('a client that disconnects mid-stream aborts its turn: CLI process and upstream request are gone', async () => {
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'sonnet', stream: true, messages: [{ role: 'user', content: '[[slow:100]] [[long:500]]' }] },
      { signal: ac.signal },
    );
    let n = 0;
    try {
      for await (const c of stream) {
        if (c.choices[0]?.delta.content && ++n === 3) ac.abort();
      }
    } catch (e) {
      assert.ok(e instanceof OpenAI.APIUserAbortError);
    }
    assert.equal(n, 3);
    await until(idle, 'the CLI process to exit after the disconnect');
    // Nothing left behind: the per-process working directories are gone too.
    const fs = await import('node:fs');
    const work = `${h.dataDir}/work`;
    await until(() => !fs.existsSync(work) || fs.readdirSync(work).length === 0, 'the working directory to be removed');
  });

  test('a client that disconnects while the model has not answered yet aborts too', async () => {
    const ac = new AbortController();
    const pending = fetch(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      signal: ac.signal,
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sonnet', messages: [{ role: 'user', content: '[[hang]]' }] }),
    });
    await until(() => h.upstream.open() === 1, 'the upstream request to be in flight');
    ac.abort();
    await assert.rejects(pending);
    await until(idle, 'the CLI process to exit after the disconnect');
  });

  test('queue full is a 429 with Retry-After; queued requests run when a slot frees', async () => {
    const holder = new AbortController();
    const first = streamRequest('[[hang]]', holder.signal);
    await until(() => h.gw.engine.limiter.running === 1 && h.upstream.open() === 1, 'the first turn to hold the only slot');
    const queued = client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:queued answer]]' }] });
    await until(() => h.gw.engine.limiter.waiting === 1, 'the second request to wait in the queue');

    const res = await fetch(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    const json = (await res.json()) as any;
    assert.equal(json.error.code, 'queue_full');

    holder.abort();
    await first.then((r) => r.body?.cancel()).catch(() => {});
    const r = await queued;
    assert.equal(r.choices[0].message.content, 'queued answer');
    await until(idle, 'all turns to finish');
  });

  test('shutdown drains: the in-flight answer completes and closes its connection, new requests are refused, no process is left', async () => {
    // Over a kept-alive connection, as a balancer sends: the answer given while draining closes it.
    const agent = new http.Agent({ keepAlive: true });
    const inflight = postJson(`${h.baseURL}/chat/completions`, { model: 'sonnet', messages: [{ role: 'user', content: '[[slow:60]] [[long:15]]' }] }, agent);
    await until(() => h.upstream.open() === 1, 'the turn to reach the upstream');
    const stopping = h.gw.stop();
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close', 'an answer given while draining closes its connection');
    assert.equal(JSON.parse(r.body).choices[0].message.content, Array.from({ length: 15 }, (_, i) => `w${i + 1}`).join(' '));
    agent.destroy();
    await stopping;
    await assert.rejects(fetch(`${h.gw.url}/health`));
    assert.equal(h.gw.engine.liveProcesses(), 0);
  });
});
