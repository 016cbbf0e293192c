// Two gateway processes (`claude-code-gateway serve`, each with its own data dir) on one real
// redis-server share app keys, budgets, revocation and usage; `claude-code-gateway keys` makes and
// revokes keys in that same Redis without a running gateway.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { TEST_KEY, TEST_SECRET } from './support/harness.js';
import { startRedis, type RedisServer } from './support/redis.js';

interface Replica {
  url: string;
  child: ChildProcess;
  dataDir: string;
}

let redis: RedisServer;
let upstream: FakeUpstream;
const replicas: Replica[] = [];

function envFor(dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dataDir,
    GATEWAY_PORT: '0',
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_API_KEY: TEST_KEY,
    GATEWAY_REDIS_URL: redis.url,
    GATEWAY_SECRET_KEY: TEST_SECRET,
    GATEWAY_LOG_LEVEL: 'warn',
    GATEWAY_PREWARM_MODELS: '',
    GATEWAY_CLI_MAX_RETRIES: '0',
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: 'sk-ant-test-upstream',
  };
}

async function serve(): Promise<Replica> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-replica-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { env: envFor(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Anthropic base URL:\s+(\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited early (${code}): ${out}`)));
  });
  const r = { url, child, dataDir };
  replicas.push(r);
  return r;
}

/** `claude-code-gateway keys ...` against the shared Redis, from a data dir of its own. */
async function keysCli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-keys-cli-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', ...args], { env: envFor(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise<number | null>((r) => child.once('exit', r));
  fs.rmSync(dataDir, { recursive: true, force: true });
  return { status, stdout, stderr };
}

let a: Replica;
let b: Replica;
/** Made by `keys create` while the replicas start (each command and gateway is a process of its own). */
let budgetKey: { id: string; key: string };
let cliKey: { id: string; key: string };
before(async () => {
  redis = await startRedis();
  upstream = await startFakeUpstream();
  const made = Promise.all([keysCli('create', '--name', 'shared budget', '--daily-tokens', '10', '--json'), keysCli('create', '--name', 'revoked via CLI', '--json')]);
  [a, b] = await Promise.all([serve(), serve()]);
  const [one, two] = await made;
  assert.equal(one.status, 0, one.stderr);
  assert.equal(two.status, 0, two.stderr);
  budgetKey = JSON.parse(one.stdout);
  cliKey = JSON.parse(two.stdout);
});
after(async () => {
  await Promise.all(
    replicas.map(async (r) => {
      const exited = new Promise((res) => r.child.once('exit', res));
      r.child.kill('SIGTERM');
      await exited;
      fs.rmSync(r.dataDir, { recursive: true, force: true });
    }),
  );
  await upstream?.close();
  await redis?.stop();
});

const chat = (r: Replica, key: string) => new OpenAI({ baseURL: `${r.url}/v1`, apiKey: key, maxRetries: 0 });
const ask = (r: Replica, key: string, text: string) => chat(r, key).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: text }] });

async function status(p: Promise<unknown>): Promise<{ status: number; body: any; retryAfter: string | null }> {
  try {
    await p;
    return { status: 200, body: undefined, retryAfter: null };
  } catch (e: any) {
    return { status: e.status, body: e.error, retryAfter: e.headers?.get('retry-after') ?? null };
  }
}

test('a key made by `keys create` works on both replicas, and a budget used up on one is refused on the other', async () => {
  const key = budgetKey;
  assert.match(key.key, /^sk-gw-/);

  const r = await ask(a, key.key, '[[reply:spent on A]]');
  assert.equal(r.choices[0].message.content, 'spent on A');
  assert.ok(r.usage!.total_tokens >= 10);
  const onB = await status(ask(b, key.key, '[[reply:never]]'));
  assert.equal(onB.status, 429);
  assert.equal(onB.body.code, 'daily_token_budget_exceeded');
  assert.ok(Number(onB.retryAfter) >= 1);

  // Both replicas book into the same Redis: A's usage API shows what A and B counted.
  const usage = (await (await fetch(`${b.url}/admin/usage?key=${key.id}`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { data: any[] };
  assert.equal(usage.data.length, 1);
  assert.equal(usage.data[0].requests, 2);
  assert.equal(usage.data[0].errors, 1);
  assert.equal(usage.data[0].input_tokens + usage.data[0].cache_read_tokens + usage.data[0].cache_write_tokens + usage.data[0].output_tokens, r.usage!.total_tokens);
});

test('a key revoked on one replica is refused on the other at once; `keys revoke` revokes on both', async () => {
  const created = await fetch(`${a.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'revoked via API' }) });
  const k1 = (await created.json()) as { id: string; key: string };
  const claude = new Anthropic({ baseURL: b.url, apiKey: k1.key, maxRetries: 0 });
  const m = await claude.messages.create({ model: 'sonnet', max_tokens: 32, messages: [{ role: 'user', content: '[[reply:made on A, used on B]]' }] });
  assert.deepEqual(m.content, [{ type: 'text', text: 'made on A, used on B' }]);
  assert.equal((await fetch(`${a.url}/admin/keys/${k1.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_KEY}` } })).status, 200);
  const refused = await status(claude.messages.create({ model: 'sonnet', max_tokens: 32, messages: [{ role: 'user', content: 'x' }] }));
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error.type, 'authentication_error');

  const k2 = cliKey;
  assert.equal((await ask(b, k2.key, '[[reply:ok]]')).choices[0].message.content, 'ok');
  const revoked = await keysCli('revoke', k2.id);
  assert.equal(revoked.status, 0, revoked.stderr);
  assert.match(revoked.stdout, new RegExp(`Revoked ${k2.id}`));
  for (const r of [a, b]) assert.equal((await status(ask(r, k2.key, 'x'))).status, 401);

  const listed = (await (await fetch(`${b.url}/admin/keys`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { data: { id: string; revoked_at: string | null }[] };
  assert.ok(listed.data.find((k) => k.id === k1.id)?.revoked_at);
  assert.ok(listed.data.find((k) => k.id === k2.id)?.revoked_at);
});
