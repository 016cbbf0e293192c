// How streams end besides an answer: a turn that fails before its first event is an ordinary error
// response (logged as the turn's outcome, not as an unhandled error with a stack); `Connection: close`
// is honoured; and a shutdown that outlasts the drain time ends every open stream with its dialect's
// error event, never a completion or a silent cut.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startLoggedGateway, type LoggedGateway } from './support/capture-log.js';
import { TEST_KEY, until } from './support/harness.js';

let g: LoggedGateway;
before(async () => {
  g = await startLoggedGateway({ drainTimeoutMs: 500, maxConcurrency: 4, keepaliveMs: 5000 });
});
after(() => g.close());

test('a streaming turn that fails before its first event: an error status, logged as the outcome, no stack', async () => {
  const client = new OpenAI({ baseURL: `${g.gw.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
  const before = g.lines.length;
  await assert.rejects(
    client.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: '[[status:529]]' }] }),
    (e: any) => {
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.ok(e.status >= 400 && e.status !== 500, `status ${e.status}`);
      assert.ok(e.error?.message, 'the OpenAI error shape');
      return true;
    },
  );
  const anthropic = new Anthropic({ baseURL: g.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
  await assert.rejects(
    (async () => {
      for await (const _ of anthropic.messages.stream({ model: 'sonnet', max_tokens: 50, messages: [{ role: 'user', content: '[[status:529]]' }] }));
    })(),
    (e: any) => e instanceof Anthropic.APIError && e.status !== 500 && e.error?.type === 'error',
  );
  await until(() => g.lines.slice(before).filter((l) => l.msg === 'request').length >= 2, 'the request lines');
  const lines = g.lines.slice(before);
  assert.ok(!lines.some((l) => l.msg === 'unhandled error'), 'not an unhandled error');
  assert.ok(!lines.some((l) => 'stack' in l), 'no stack trace');
  assert.ok(lines.some((l) => l.msg === 'turn finished' && l.outcome === 'error' && l.level <= 40), 'the turn outcome');
});

test('a streaming response honours Connection: close: the header says so and the socket closes after it', async () => {
  const body = JSON.stringify({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: '[[reply:bye now]]' }] });
  const u = new URL(`${g.gw.url}/v1/chat/completions`);
  const { headers, text, socketClosed } = await new Promise<{ headers: http.IncomingHttpHeaders; text: string; socketClosed: Promise<void> }>((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', connection: 'close' } },
      (res) => {
        const socketClosed = new Promise<void>((r) => res.socket.once('close', () => r()));
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ headers: res.headers, text, socketClosed }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(headers.connection, 'close');
  assert.match(text, /bye/);
  assert.ok(text.trimEnd().endsWith('data: [DONE]'));
  await socketClosed;

  // Without it the connection stays open for the next request.
  const keep = await fetch(`${g.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body });
  assert.notEqual(keep.headers.get('connection'), 'close');
  await keep.text();
});

test('shutdown: streams still running after the drain time end with their dialect error event, then the gateway stops', async () => {
  const slow = '[[slow:100]] [[long:3000]]';
  const openai = new OpenAI({ baseURL: `${g.gw.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: g.gw.url, apiKey: TEST_KEY, maxRetries: 0 });

  // Each stream reports once it has text, then reads on to its end.
  const started: Promise<void>[] = [];
  const gate = () => {
    let go!: () => void;
    started.push(new Promise<void>((r) => (go = r)));
    return go;
  };

  const chatGo = gate();
  const chat = (async () => {
    const s = await openai.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: slow }] });
    let finished = false;
    try {
      for await (const c of s) {
        if (c.choices[0]?.delta.content) chatGo();
        if (c.choices[0]?.finish_reason) finished = true;
      }
    } catch (e) {
      return { error: e as any, finished };
    }
    return { error: undefined, finished };
  })();

  const messagesGo = gate();
  const messages = (async () => {
    const events: string[] = [];
    try {
      for await (const ev of anthropic.messages.stream({ model: 'sonnet', max_tokens: 8000, messages: [{ role: 'user', content: slow }] })) {
        events.push(ev.type);
        if (ev.type === 'content_block_delta') messagesGo();
      }
    } catch (e) {
      return { error: e as any, events };
    }
    return { error: undefined, events };
  })();

  const responsesGo = gate();
  const responses = (async () => {
    const events: any[] = [];
    const s = await openai.responses.create({ model: 'sonnet', stream: true, input: slow });
    for await (const ev of s) {
      events.push(ev);
      if (ev.type === 'response.output_text.delta') responsesGo();
    }
    return events;
  })();

  await Promise.all(started);
  const stopping = g.gw.stop();

  const c = await chat;
  assert.ok(c.error instanceof OpenAI.APIError, `chat ends with an error: ${c.error}`);
  assert.match(c.error.message, /shutting down/);
  assert.equal(c.finished, false, 'no finish_reason');

  const m = await messages;
  assert.ok(m.error instanceof Anthropic.APIError, `messages end with an error: ${m.error}`);
  assert.equal(m.error.error?.error?.type, 'overloaded_error');
  assert.match(m.error.message, /shutting down/);
  assert.ok(!m.events.includes('message_stop'));

  const r = await responses;
  const last = r[r.length - 1];
  assert.equal(last.type, 'response.failed');
  assert.match(last.response.error.message, /shutting down/);
  assert.ok(!r.some((e) => e.type === 'response.completed'));

  await stopping;
  assert.equal(g.gw.engine.liveProcesses(), 0);
  const warn = g.lines.find((l) => l.msg?.startsWith('shutdown: streams still open'));
  assert.ok(warn && warn.level === 40, 'the cut is logged at warn');
  await assert.rejects(fetch(`${g.gw.url}/health`), 'no longer accepting');
});
