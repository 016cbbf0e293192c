// `npm run test:container`, second part: the gateway as teams scale it out, from the deployment files a
// user applies: deploy/compose/docker-compose.replicas.yml (3 replicas, Redis, haproxy) with
// podman-compose, unchanged, and deploy/kubernetes/ with `podman kube play`, unchanged but for what
// podman 4.3 cannot take or does differently from a cluster and the Services it lacks (kube.ts says
// which). Real requests (openai
// client) against the scripted upstream on the host, relayed to the containers' networks. Images: the
// Dockerfile's (support.ts) and Debian-built stand-ins for redis:7 and haproxy:2.6 (stand-ins.ts).
//
// Login: none of the replicas has a credential of its own; the test logs in once, as a user does,
// through the balancer (haproxy; the Service's stand-in) by pasting a token with the gateway key
// (POST /auth/token), and every replica then answers with that token, read from Redis (README
// "Scaling out": one login).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { createSecret, ipOf, kubeFiles, ofKind, playable, podsOf, startServiceStandIn } from './kube.js';
import { podman, run } from './podman.js';
import { ensureStandIns } from './stand-ins.js';
import { authStatus, ensureGatewayImage, freePort, logger, pasteToken, ROOT, startRelay, until } from './support.js';

const KEY = `ccg-replicas-${crypto.randomBytes(8).toString('hex')}`;
const SECRET_KEY = crypto.randomBytes(32).toString('hex');
const TOKEN = `sk-ant-oat01-replicas-${crypto.randomBytes(12).toString('hex')}`;
const TAG = `ccgrep${process.pid}`;
const t0 = Date.now();
const log = logger('replicas');
const figures: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

let upstream: FakeUpstream;
let relay: { port: number; close: () => void };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const client = (base: string) => new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });

async function chat(base: string, text: string): Promise<string> {
  const r = await client(base).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: `[[reply:${text}]]` }] });
  return r.choices[0].message.content ?? '';
}

/** The upstream credentials seen since `from`: the token, whichever replica sent it. */
const credentialsSeen = (from: number) =>
  upstream.requests.slice(from).filter((r) => r.path === '/v1/messages').map((r) => String(r.headers.authorization ?? r.headers['x-api-key'] ?? ''));

/**
 * The one login: none of `replicas` has a credential before it; a token pasted through `entry` (the
 * balancer) is then in force on every replica, from the shared store. Returns the milliseconds from
 * the paste to the last replica using it (the paste includes its verification turn).
 */
async function loginOnce(entry: string, replicas: string[]): Promise<number> {
  for (const base of replicas) assert.equal((await authStatus(base, KEY)).source, null, `${base} starts with no credential of its own`);
  const l0 = Date.now();
  const { status, body } = await pasteToken(entry, KEY, TOKEN);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.verification?.ok, true, `the pasted token verified upstream: ${JSON.stringify(body)}`);
  for (const base of replicas) {
    const s = await until(async () => {
      const s = await authStatus(base, KEY);
      return s.authenticated && s.credential === `…${TOKEN.slice(-4)}` ? s : undefined;
    }, `${base} to use the login made through ${entry}`, 30_000);
    assert.match(s.source ?? '', /^stored \(the shared store/, `${base} reads the login from Redis`);
  }
  return Date.now() - l0;
}

before(async () => {
  const image = await ensureGatewayImage(log);
  figures.push(`gateway image build (podman layer cache) ${seconds(image.buildMs)}`);
  const standIns = await ensureStandIns(log);
  figures.push(`redis/haproxy stand-ins: ${standIns.built.length ? `built ${standIns.built.join(', ')}` : 'reused'} in ${seconds(standIns.ms)}`);
  upstream = await startFakeUpstream();
  relay = await startRelay(Number(new URL(upstream.url).port));
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch((e) => log(`cleanup: ${(e as Error).message.split('\n')[0]}`));
  relay?.close();
  await upstream?.close();
  for (const f of figures) log(`FIGURE ${f}`);
  log(`total ${seconds(Date.now() - t0)}`);
});

/** haproxy's statistics as rows keyed by column name (`;csv` of its stats page). */
async function haproxyStats(statsUrl: string): Promise<Record<string, string>[]> {
  const text = await (await fetch(`${statsUrl}/;csv`)).text();
  const [head, ...rows] = text.trim().split('\n');
  const cols = head.replace(/^# /, '').split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v])));
}
const servers = async (statsUrl: string) => (await haproxyStats(statsUrl)).filter((r) => r.pxname === 'replicas' && r.svname.startsWith('gateway-'));
const sessionsPerServer = async (statsUrl: string) => Object.fromEntries((await servers(statsUrl)).map((s) => [s.svname, Number(s.stot)]));

test('compose: 3 replicas, Redis and haproxy from docker-compose.replicas.yml; every replica ready and answering; one stopped under load fails no request', async () => {
  const dir = path.join(ROOT, 'deploy/compose');
  const project = `${TAG}c`;
  const [port, statsPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    GATEWAY_API_KEY: KEY,
    GATEWAY_SECRET_KEY: SECRET_KEY,
    GATEWAY_HOST_PORT: String(port),
    HAPROXY_STATS_PORT: String(statsPort),
    CCG_TEST_UPSTREAM: `http://host.containers.internal:${relay.port}`,
    // A turn here can take 10 s and more (2 cores shared): the drain and the stop timeout below are
    // raised together, as README "Stopping" says, so that a turn running at the stop finishes.
    GATEWAY_DRAIN_TIMEOUT_MS: '40000',
  };
  const compose = (args: string[]) =>
    run('podman-compose', ['-p', project, '-f', path.join(dir, 'docker-compose.replicas.yml'), '-f', path.join(ROOT, 'test/container/replicas.override.yml'), ...args], { cwd: dir, env });
  cleanups.push(async () => {
    await compose(['down', '-t', '2']);
    for (const v of ['gateway-1-data', 'gateway-2-data', 'gateway-3-data', 'redis-data']) await podman(['volume', 'rm', '-f', `${project}_${v}`], { allowFail: true });
    await podman(['network', 'rm', '-f', `${project}_default`], { allowFail: true });
  });
  const url = `http://127.0.0.1:${port}`;
  const statsUrl = `http://127.0.0.1:${statsPort}`;

  const u0 = Date.now();
  await compose(['up', '-d']);
  const up = await until(async () => {
    const s = await servers(statsUrl);
    return s.length === 3 && s.every((r) => r.status === 'UP') ? s : undefined;
  }, 'haproxy to see all 3 replicas UP (their /health 200)', 300_000).catch(async (e) => {
    throw new Error(`${e.message}\n${(await podman(['ps', '-a', '--filter', `name=${project}`])).stdout}\n${(await podman(['logs', `${project}_gateway-1_1`], { allowFail: true })).stderr.slice(-3000)}`);
  });
  figures.push(`compose: podman-compose up -d to all 3 replicas UP in haproxy ${seconds(Date.now() - u0)}`);
  assert.deepEqual(up.map((s) => s.svname).sort(), ['gateway-1', 'gateway-2', 'gateway-3']);

  // One login through haproxy, in force on each replica (reached on the compose network directly).
  const replicas = await Promise.all([1, 2, 3].map(async (n) => `http://${await ipOf(`${project}_gateway-${n}_1`, `${project}_default`)}:4000`));
  figures.push(`compose: one token pasted through haproxy (POST /auth/token, verified) to in use on all 3 replicas ${seconds(await loginOnce(url, replicas))}`);

  // Round robin: six requests, each replica answers two; every upstream call carries the one token.
  let before = await sessionsPerServer(statsUrl);
  const from = upstream.requests.length;
  for (let i = 0; i < 6; i++) assert.equal(await chat(url, `answer ${i} through haproxy`), `answer ${i} through haproxy`);
  let after = await sessionsPerServer(statsUrl);
  for (const name of ['gateway-1', 'gateway-2', 'gateway-3']) assert.ok(after[name] - before[name] >= 1, `${name} answered: ${JSON.stringify({ before, after })}`);
  assert.deepEqual([...new Set(credentialsSeen(from))], [`Bearer ${TOKEN}`]);

  // One Redis: a response stored through one replica is read back through each of the three.
  const created = await client(url).responses.create({ model: 'sonnet', input: '[[reply:stored once, read everywhere]]' });
  before = await sessionsPerServer(statsUrl);
  for (let i = 0; i < 3; i++) {
    const got = await client(url).responses.retrieve(created.id);
    assert.equal(got.output_text, 'stored once, read everywhere');
  }
  after = await sessionsPerServer(statsUrl);
  for (const name of ['gateway-1', 'gateway-2', 'gateway-3']) assert.equal(after[name] - before[name], 1, `one read on ${name}: ${JSON.stringify({ before, after })}`);

  // A replica stopped under a steady stream of requests: it drains, haproxy's check takes it out, and
  // requests it refuses meanwhile are retried on another replica: none fails.
  const outcomes: string[] = [];
  let loading = true;
  // Three clients, each sending its next request when the last is answered.
  const load = Promise.all(
    [0, 1, 2].map(async (c) => {
      for (let i = 0; loading; i++) {
        const text = `client ${c} during the stop ${i}`;
        outcomes.push(await chat(url, text).then((got) => (got === text ? 'ok' : `wrong answer: ${got}`), (e: Error) => `failed: ${e.message}`));
      }
    }),
  );
  const s0 = Date.now();
  await podman(['stop', '-t', '45', `${project}_gateway-2_1`]);
  await until(async () => ((await servers(statsUrl)).find((s) => s.svname === 'gateway-2')?.status.startsWith('DOWN') ? true : undefined), 'haproxy to mark gateway-2 DOWN');
  const downMs = Date.now() - s0;
  loading = false;
  await load;
  figures.push(`compose: podman stop of a replica to DOWN in haproxy ${seconds(downMs)}; ${outcomes.length} requests sent by 3 clients meanwhile`);
  assert.ok(outcomes.length >= 1, 'requests were sent during the stop');
  assert.deepEqual(outcomes.filter((o) => o !== 'ok'), [], `every request during the stop was answered (${outcomes.length} sent)`);
  for (let i = 0; i < 4; i++) assert.equal(await chat(url, `still answered ${i}`), `still answered ${i}`);
});

test('Kubernetes: deploy/kubernetes/ with podman kube play; 3 gateway pods ready (/health) and live (/health/live), non-root, each with its own emptyDirs, one login through the Service, each answering, sharing Redis', async () => {
  const files = kubeFiles();
  const network = `${TAG}-k8s`;
  await podman(['network', 'create', network]);
  cleanups.push(() => podman(['network', 'rm', '-f', network], { allowFail: true }));
  const gatewayIp = (await podman(['network', 'inspect', '--format', '{{range .Subnets}}{{.Gateway}}{{end}}', network])).stdout.trim();

  // The Secret as README "Kubernetes" has users create it (no token: the login is made once below),
  // plus the test's upstream (relayed).
  const secretName = 'claude-code-gateway';
  await createSecret(secretName, { GATEWAY_API_KEY: KEY, GATEWAY_SECRET_KEY: SECRET_KEY, ANTHROPIC_BASE_URL: `http://${gatewayIp}:${relay.port}` });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-kube-'));
  cleanups.push(async () => {
    await podman(['secret', 'rm', secretName], { allowFail: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const p0 = Date.now();
  const servicePort = await freePort();
  for (const f of files) {
    const { yaml, removed, volumes } = playable(f);
    const file = path.join(tmp, path.basename(f.file));
    fs.writeFileSync(file, yaml);
    if (removed.length) log(`${path.relative(ROOT, f.file)}: taken out for podman 4.3 (kube.ts): ${removed.join(', ')}`);
    cleanups.push(async () => {
      await podman(['kube', 'down', file], { allowFail: true });
      for (const d of f.docs.filter((x) => x.kind === 'Deployment')) for (const { pod } of podsOf(d)) await podman(['pod', 'rm', '-f', pod], { allowFail: true });
      for (const v of new Set(volumes)) await podman(['volume', 'rm', '-f', v], { allowFail: true });
    });
    await podman(['kube', 'play', '--network', network, file]);
    for (const svc of f.docs.filter((d) => d.kind === 'Service')) {
      const name = await startServiceStandIn(svc, files, network, TAG, svc.metadata.name === 'claude-code-gateway' ? { hostPort: servicePort, port: 4000 } : undefined);
      cleanups.push(() => podman(['rm', '-f', '-t', '0', name], { allowFail: true }));
    }
  }

  const gateway = ofKind(files, 'Deployment').find((d) => d.metadata.name === 'claude-code-gateway')!;
  const pods = podsOf(gateway);
  assert.equal(pods.length, 3, 'the Deployment asks for 3 replicas');
  const bases: string[] = [];
  for (const { containers } of pods) bases.push(`http://${await ipOf(containers[0], network)}:4000`);
  for (const base of bases) {
    await until(async () => ((await fetch(`${base}/health`)).status === 200 ? true : undefined), `${base}/health 200`, 300_000).catch(async (e) => {
      throw new Error(`${e.message}\n${(await podman(['logs', pods[bases.indexOf(base)].containers[0]], { allowFail: true })).stderr.slice(-3000)}`);
    });
  }
  figures.push(`Kubernetes: podman kube play to all 3 pods ready (/health 200) ${seconds(Date.now() - p0)}`);

  // Each pod has its own data dir, HOME and /tmp, as on Kubernetes (kube.ts): a file one writes the
  // others do not see.
  const marker = `only-in-${pods[0].pod}`;
  for (const dir of ['/data', '/home/node', '/tmp']) await podman(['exec', pods[0].containers[0], 'node', '-e', `require('fs').writeFileSync('${dir}/${marker}', '')`]);
  for (const { containers } of pods.slice(1)) {
    const seen = await podman(['exec', containers[0], 'ls', '-a', '/data', '/home/node', '/tmp']);
    assert.ok(!seen.stdout.includes(marker), `${containers[0]} sees another pod's emptyDir:\n${seen.stdout}`);
  }

  // One login through the gateway's Service (its stand-in), in force on every pod.
  figures.push(`Kubernetes: one token pasted through the Service (POST /auth/token, verified) to in use on all 3 pods ${seconds(await loginOnce(`http://127.0.0.1:${servicePort}`, bases))}`);

  for (const [i, base] of bases.entries()) {
    const live = await fetch(`${base}/health/live`);
    assert.equal(live.status, 200, 'liveness needs no key');
    const ctr = pods[i].containers[0];
    assert.equal((await podman(['exec', ctr, 'id', '-u'])).stdout.trim(), '1000', 'runs as uid 1000 (securityContext, the image\'s user)');
    const from = upstream.requests.length;
    assert.equal(await chat(base, `pod ${i} answers`), `pod ${i} answers`);
    assert.deepEqual([...new Set(credentialsSeen(from))], [`Bearer ${TOKEN}`], 'the token of the one login');
  }

  // One Redis behind its Service: stored through pod 0, read through pods 1 and 2.
  const created = await client(bases[0]).responses.create({ model: 'sonnet', input: '[[reply:shared through the redis Service]]' });
  for (const base of bases.slice(1)) assert.equal((await client(base).responses.retrieve(created.id)).output_text, 'shared through the redis Service');

  // The gateway's Service (its stand-in, on a host port) answers too.
  assert.equal(await chat(`http://127.0.0.1:${servicePort}`, 'through the Service'), 'through the Service');
});
