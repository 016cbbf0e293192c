// Each CLI process the gateway starts has a TMPDIR of its own, and nothing of it outlives the
// process: Claude Code leaves a `claude-<uid>/fswatch-probe-*` folder in its TMPDIR per process,
// which piled up in the shared temp folder over a soak. A real `serve` gateway and the real CLI: turns
// that start and stop processes (conversations, one-shots, a dropped stream), then a SIGTERM; and a
// gateway killed with kill -9, whose processes' folders the next start removes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { until } from './support/harness.js';
import { startServe } from './support/serve.js';

let upstream: FakeUpstream;
let base: string;
let tmp: string;
let root: string;
const key = 'cli-tmpdir-key-0123';
before(async () => {
  upstream = await startFakeUpstream();
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-clitmp-'));
  tmp = path.join(base, 'tmp');
  fs.mkdirSync(tmp);
  root = path.join(tmp, `claude-gateway-${process.getuid?.() ?? 0}`);
});
after(async () => {
  await upstream.close();
  fs.rmSync(base, { recursive: true, force: true });
});

const serve = () =>
  startServe({
    HOME: base,
    TMPDIR: tmp,
    GATEWAY_PORT: '0',
    GATEWAY_DATA_DIR: path.join(base, 'data'),
    GATEWAY_API_KEY: key,
    GATEWAY_LOG_LEVEL: 'warn',
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: 'sk-ant-test',
  });
/** The per-process folders: <root>/<gateway pid>.<engine id>/<process id>. */
const processDirs = () => (fs.existsSync(root) ? fs.readdirSync(root).flatMap((g) => fs.readdirSync(path.join(root, g)).map((p) => path.join(g, p))) : []);

test('after turns that start and stop CLI processes, and a SIGTERM, no per-process temp folder remains', async (t) => {
  const served = await serve();
  t.after(() => served.child.kill('SIGKILL'));
  const client = new OpenAI({ baseURL: served.url, apiKey: key, maxRetries: 0 });
  const seen = new Set<string>();
  let probes = 0;
  const look = () => {
    for (const d of processDirs()) {
      seen.add(d);
      if (fs.existsSync(path.join(root, d, `claude-${process.getuid?.() ?? 0}`))) probes++;
    }
  };
  for (const c of [1, 2, 3]) {
    const messages: OpenAI.ChatCompletionMessageParam[] = [];
    for (const n of [1, 2]) {
      messages.push({ role: 'user', content: `conversation ${c} turn ${n} [[reply:c${c} t${n}]]` });
      const r = await client.chat.completions.create({ model: 'sonnet', messages });
      assert.equal(r.choices[0].message.content, `c${c} t${n}`);
      messages.push({ role: 'assistant', content: `c${c} t${n}` });
      look();
    }
    const one = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: `one-shot ${c} [[reply:shot ${c}]]` }] });
    assert.equal(one.choices[0].message.content, `shot ${c}`);
    look();
  }
  // A stream dropped mid-answer: its process is killed.
  const ac = new AbortController();
  const stream = await client.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: 'drop [[slow:20]] [[long:40]]' }] }, { signal: ac.signal });
  let chunks = 0;
  try {
    for await (const _ of stream) if (++chunks === 3) ac.abort();
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  }
  assert.equal(chunks, 3);
  look();
  // The processes ran in folders of their own, and the CLI used them as its TMPDIR.
  assert.ok(seen.size >= 4, `processes with their own temp folder: ${seen.size}`);
  assert.ok(probes > 0, 'the CLI wrote its claude-<uid> folder into the process temp folder');
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('claude-') && n !== path.basename(root)), [], 'nothing of the CLI in the shared temp folder');

  assert.equal(await served.stop(), 0);
  assert.deepEqual(processDirs(), []);
  assert.deepEqual(fs.readdirSync(root), [], "the gateway's own folder went too");
});

test('the folders of a gateway killed with kill -9 are removed when the next one starts', async (t) => {
  const first = await serve();
  const client = new OpenAI({ baseURL: first.url, apiKey: key, maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'stay live [[reply:live]]' }] });
  assert.equal(r.choices[0].message.content, 'live');
  const gatewayDir = `${first.child.pid}.`;
  await until(() => processDirs().some((d) => d.startsWith(gatewayDir)), 'the first gateway to hold process folders', 30_000);
  const exited = new Promise((res) => first.child.once('exit', res));
  first.child.kill('SIGKILL');
  await exited;
  assert.ok(processDirs().some((d) => d.startsWith(gatewayDir)), 'kill -9 left the folders behind');

  const second = await serve();
  t.after(() => second.child.kill('SIGKILL'));
  assert.deepEqual(processDirs().filter((d) => d.startsWith(gatewayDir)), []);
  assert.equal(await second.stop(), 0);
  assert.deepEqual(fs.readdirSync(root), []);
});
