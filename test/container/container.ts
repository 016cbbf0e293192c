// `npm run test:container`: the project's image built from its Dockerfile the way users build it
// (`podman build --format docker`), run with podman the way users run it, against the scripted
// upstream on the host (test/support/fake-upstream.ts; host networking). Podman and a Node base image
// are made here without an image registry (podman.ts, base-image.ts, support.ts); both are reused by
// a rerun. The replicas (compose with Redis and haproxy, Kubernetes manifests) are in replicas.ts.
// Not part of `npm test`: it takes minutes and installs Debian packages. .ci/run runs it after it.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { podman, run } from './podman.js';
import { ensureGatewayImage, freePort, IMAGE, logger, ROOT, startRelay, until } from './support.js';

const KEY = `ccg-container-${crypto.randomBytes(8).toString('hex')}`;
const TAG = `ccgtest${process.pid}`;
const VOLUME = `${TAG}-data`;
const OAUTH_TOKEN = `sk-ant-oat01-container-${crypto.randomBytes(12).toString('hex')}`;
const API_KEY = `sk-ant-api03-container-${crypto.randomBytes(12).toString('hex')}`;
const t0 = Date.now();
const log = logger('container');
const figures: string[] = [];

let upstream: FakeUpstream;
const containers = new Set<string>();

interface Gw {
  name: string;
  port: number;
  url: string;
  /** Milliseconds from `podman run` to the first /health 200. */
  startMs: number;
}

async function logsOf(name: string): Promise<string> {
  const r = await podman(['logs', name], { allowFail: true });
  return r.stdout + r.stderr;
}

/** Starts the image as users do (a named volume at /data, the key in the environment), on host networking. */
async function startGw(opts: { volume?: string; env?: Record<string, string> } = {}): Promise<Gw> {
  const port = await freePort();
  const name = `${TAG}-${containers.size + 1}`;
  const env = { GATEWAY_API_KEY: KEY, GATEWAY_PORT: String(port), ANTHROPIC_BASE_URL: upstream.url, GATEWAY_LOG_LEVEL: 'info', ...opts.env };
  const start = Date.now();
  await podman(['run', '-d', '--name', name, '--network', 'host', '-v', `${opts.volume ?? VOLUME}:/data`, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), IMAGE]);
  containers.add(name);
  const url = `http://127.0.0.1:${port}`;
  await until(async () => ((await fetch(`${url}/health`)).ok ? true : undefined), `${name} /health`).catch(async (e) => {
    throw new Error(`${e.message}\n${await logsOf(name)}`);
  });
  return { name, port, url, startMs: Date.now() - start };
}

/**
 * `podman healthcheck run` as the runtime counts it: healthy unless the check fails `retries` (3) times
 * in a row. A single check may overrun its timeout on a loaded machine; three in a row would not.
 */
async function healthcheck(name: string): Promise<{ code: number | null; out: string }> {
  let last = { code: null as number | null, out: '' };
  for (let i = 0; i < 3; i++) {
    const r = await podman(['healthcheck', 'run', name], { allowFail: true });
    last = { code: r.code, out: `${r.stdout}${r.stderr}` };
    if (r.code === 0) break;
  }
  return last;
}

async function removeGw(name: string): Promise<void> {
  await podman(['rm', '-f', '-t', '0', name], { allowFail: true });
  containers.delete(name);
}

const bearer = { authorization: `Bearer ${KEY}` };
async function authStatus(gw: Gw): Promise<any> {
  const r = await fetch(`${gw.url}/auth/status`, { headers: bearer });
  assert.equal(r.status, 200);
  return r.json();
}

async function chat(gw: Gw, text: string): Promise<string> {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: `[[reply:${text}]]` }] });
  return r.choices[0].message.content ?? '';
}

/** The credential headers of the upstream requests made since `from`. */
const credentialsSeen = (from: number) =>
  upstream.requests.slice(from).filter((r) => r.path === '/v1/messages').map((r) => String(r.headers['x-api-key'] ?? r.headers.authorization ?? ''));

let gw: Gw;

before(async () => {
  const { size, baseSize } = await ensureGatewayImage(log);
  figures.push(`image size ${(size / 1e6).toFixed(0)} MB (base ${(baseSize / 1e6).toFixed(0)} MB, gateway layers ${((size - baseSize) / 1e6).toFixed(0)} MB)`);
  upstream = await startFakeUpstream();
  await podman(['volume', 'create', VOLUME]);
});

after(async () => {
  for (const name of [...containers]) await removeGw(name);
  await podman(['volume', 'rm', '-f', VOLUME], { allowFail: true });
  await upstream?.close();
  for (const f of figures) log(`FIGURE ${f}`);
  log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
});

test('the image keeps its HEALTHCHECK (docker format) and runs as the unprivileged node user', async () => {
  const hc = JSON.parse((await podman(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', IMAGE])).stdout);
  assert.ok(Array.isArray(hc?.Test) && hc.Test.join(' ').includes('/health'), `HEALTHCHECK kept: ${JSON.stringify(hc)}`);
  gw = await startGw();
  figures.push(`start to healthy (podman run to /health 200) ${gw.startMs} ms`);
  const health = await fetch(`${gw.url}/health`);
  assert.equal(health.status, 200);
  const h0 = Date.now();
  const hcRun = await healthcheck(gw.name);
  assert.equal(hcRun.code, 0, `podman healthcheck run: ${hcRun.out}`);
  figures.push(`podman healthcheck run ${Date.now() - h0} ms`);
  const id = (await podman(['exec', gw.name, 'id', '-u'])).stdout.trim();
  assert.equal(id, '1000');
  const top = (await podman(['top', gw.name, 'user', 'comm'])).stdout;
  assert.ok(!/^root\s/m.test(top), `no process runs as root:\n${top}`);
  const st = await authStatus(gw);
  assert.equal(st.authenticated, false, 'a fresh volume has no login');
});

test('a token pasted on /auth is stored in the volume and answers a chat completion and a streamed message', async () => {
  // Sign in to the page with the gateway key, then paste the token with the page's CSRF token.
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const FORM = 'application/x-www-form-urlencoded';
  const session = await fetch(`${gw.url}/auth/session`, { method: 'POST', redirect: 'manual', headers: { 'content-type': FORM, origin: gw.url }, body: form({ key: KEY }) });
  assert.equal(session.status, 303);
  const cookie = session.headers.get('set-cookie')!.split(';')[0];
  const page = await (await fetch(`${gw.url}/auth`, { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1];
  const from = upstream.requests.length;
  const pasted = await fetch(`${gw.url}/auth/token`, { method: 'POST', redirect: 'manual', headers: { 'content-type': FORM, cookie }, body: form({ token: OAUTH_TOKEN, csrf }) });
  assert.equal(pasted.status, 303);
  const st = await authStatus(gw);
  assert.equal(st.authenticated, true);
  assert.equal(st.method, 'oauth_token');
  assert.equal(st.verified, true, `checked with a real request: ${JSON.stringify(st)}`);

  assert.equal(await chat(gw, 'pong from the container'), 'pong from the container');
  const anthropic = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
  const stream = anthropic.messages.stream({ model: 'sonnet', max_tokens: 256, messages: [{ role: 'user', content: '[[reply:streamed through the container]]' }] });
  let deltas = 0;
  stream.on('text', () => deltas++);
  const msg = await stream.finalMessage();
  assert.equal(msg.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), 'streamed through the container');
  assert.ok(deltas > 1, 'streamed in several deltas');
  const seen = credentialsSeen(from);
  assert.ok(seen.length >= 3 && seen.every((c) => c === `Bearer ${OAUTH_TOKEN}`), 'every upstream call used the pasted token');
});

test('login --token in a one-off container on the same volume; the running gateway switches to it', async () => {
  const r = await podman(['run', '--rm', '-i', '-v', `${VOLUME}:/data`, IMAGE, 'login', '--token'], { input: `${API_KEY}\n` });
  assert.match(r.stdout, /Stored API key/);
  assert.ok(!(r.stdout + r.stderr).includes(API_KEY), 'the key is never printed');
  const st = await until(async () => {
    const s = await authStatus(gw);
    return s.method === 'api_key' ? s : undefined;
  }, 'the running gateway to pick up the terminal login');
  assert.equal(st.authenticated, true);
  const from = upstream.requests.length;
  assert.equal(await chat(gw, 'answered with the key'), 'answered with the key');
  assert.deepEqual([...new Set(credentialsSeen(from))], [API_KEY]);
});

test('the container removed and re-created on the same volume is still logged in and answers', async () => {
  await removeGw(gw.name);
  gw = await startGw();
  figures.push(`start to healthy, existing volume ${gw.startMs} ms`);
  const st = await authStatus(gw);
  assert.equal(st.authenticated, true);
  assert.equal(st.method, 'api_key');
  assert.match(st.source, /^stored/);
  const from = upstream.requests.length;
  assert.equal(await chat(gw, 'still logged in'), 'still logged in');
  assert.deepEqual([...new Set(credentialsSeen(from))], [API_KEY]);
});

/** Starts a streamed chat completion and resolves once its first content arrives; `done` is the outcome. */
async function streamUntilFirstDelta(g: Gw, words: number, slowMs: number) {
  const client = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const text = Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
  const stream = await client.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: `[[reply:${text}]] [[slow:${slowMs}]]` }] });
  let got = '';
  let finish: string | null = null;
  let firstDelta!: () => void;
  const first = new Promise<void>((r) => (firstDelta = r));
  const done = (async () => {
    try {
      for await (const chunk of stream) {
        const c = chunk.choices[0];
        if (c?.delta?.content) {
          got += c.delta.content;
          firstDelta();
        }
        if (c?.finish_reason) finish = c.finish_reason;
      }
      return { ok: true as const, got, finish, expected: text };
    } catch (e) {
      return { ok: false as const, got, finish, expected: text, error: e as Error };
    } finally {
      firstDelta();
    }
  })();
  await first;
  return { done };
}

async function exitCodeAfterStop(name: string): Promise<number> {
  const stop = await podman(['stop', name], { allowFail: true }); // podman's default: SIGTERM, SIGKILL after 10 s
  assert.equal(stop.code, 0, stop.stderr);
  return Number((await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).stdout.trim());
}

test('SIGTERM during a stream (default 8 s drain, podman stop\'s 10 s): the stream ends cleanly and the container exits 0', async () => {
  // A 2 s answer normally completes within the drain; on a very loaded machine it may instead end with
  // the shutdown error event. Either is a clean end; a stream cut with neither is the failure.
  const { done } = await streamUntilFirstDelta(gw, 20, 100);
  const exit = await exitCodeAfterStop(gw.name);
  const r = await done;
  if (r.ok) {
    assert.equal(r.got, r.expected, 'completed whole');
    assert.equal(r.finish, 'stop');
  } else {
    assert.match(r.error.message, /shutting down/i, `ended with the shutdown error event: ${r.error.message}`);
    assert.equal(r.finish, null);
  }
  figures.push(`SIGTERM during a 2 s stream: ${r.ok ? 'completed within the drain' : 'ended with the error event'}`);
  assert.equal(exit, 0, await logsOf(gw.name));
  await removeGw(gw.name);
});

test('SIGTERM during a stream longer than the drain time: the stream ends with its error event and the container exits 0', async () => {
  const g = await startGw({ env: { GATEWAY_DRAIN_TIMEOUT_MS: '1000' } });
  const { done } = await streamUntilFirstDelta(g, 60, 200);
  const exit = await exitCodeAfterStop(g.name);
  const r = await done;
  assert.equal(r.ok, false, 'not a complete answer');
  assert.match(String(!r.ok && r.error.message), /shutting down/i);
  assert.ok(r.got.length > 0 && r.got.length < r.expected.length, 'cut part-way, after some text');
  assert.equal(r.finish, null, 'no finish_reason: the client can tell the cut from an answer');
  assert.equal(exit, 0, await logsOf(g.name));
  await removeGw(g.name);
});

test('a root-owned folder mounted at /data stops start-up with a message naming the folder and the uid', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-rootowned-'));
  try {
    fs.chmodSync(dir, 0o755);
    const r = await podman(['run', '--rm', '-e', `GATEWAY_API_KEY=${KEY}`, '-v', `${dir}:/data`, IMAGE], { allowFail: true });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 1, out);
    assert.match(out, /cannot write the data dir \/data: permission denied \(EACCES\)/);
    assert.match(out, /runs as uid 1000, gid 1000/);
    assert.ok(!/\n\s+at /.test(out), `no stack trace: ${out}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('compose up, down, up with the project\'s docker-compose.yml keeps the login', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const project = `${TAG}c`;
  // Compose runs on its own bridge network, as users run it: the container reaches the host's
  // scripted upstream through a relay on the host's addresses (the upstream listens on loopback).
  const relay = await startRelay(Number(new URL(upstream.url).port));
  const env = { ...process.env, GATEWAY_API_KEY: KEY, GATEWAY_HOST_PORT: String(port), CCG_TEST_UPSTREAM: `http://host.containers.internal:${relay.port}` };
  const compose = (args: string[]) => run('podman-compose', ['-p', project, '-f', path.join(ROOT, 'docker-compose.yml'), '-f', path.join(ROOT, 'test/container/compose.override.yml'), ...args], { cwd: ROOT, env });
  const g: Gw = { name: `${project}_gateway_1`, port, url, startMs: 0 };
  const up = async () => {
    const s = Date.now();
    // The service is named: podman-compose 1.0 ignores profiles and would start Open WebUI too.
    await compose(['up', '-d', 'gateway']);
    containers.add(g.name);
    await until(async () => ((await fetch(`${url}/health`)).ok ? true : undefined), 'compose /health');
    return Date.now() - s;
  };
  try {
    figures.push(`compose up to healthy ${await up()} ms`);
    const hc = await healthcheck(g.name);
    assert.equal(hc.code, 0, `the compose file's health check: ${hc.out}`);
    assert.equal((await authStatus(g)).authenticated, false);
    const pasted = await fetch(`${url}/auth/token`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ token: OAUTH_TOKEN }) });
    assert.equal(pasted.status, 200, await pasted.clone().text());
    assert.equal((await authStatus(g)).method, 'oauth_token');

    await compose(['down']);
    assert.notEqual((await podman(['container', 'exists', g.name], { allowFail: true })).code, 0, 'down removed the container');
    await up();
    const st = await authStatus(g);
    assert.equal(st.authenticated, true);
    assert.equal(st.method, 'oauth_token');
    const from = upstream.requests.length;
    assert.equal(await chat(g, 'compose kept the login'), 'compose kept the login');
    assert.deepEqual([...new Set(credentialsSeen(from))], [`Bearer ${OAUTH_TOKEN}`]);
  } finally {
    await compose(['down']).catch(() => undefined);
    containers.delete(g.name);
    await podman(['volume', 'rm', '-f', `${project}_gateway-data`], { allowFail: true });
    await podman(['network', 'rm', '-f', `${project}_default`], { allowFail: true });
    relay.close();
  }
});
