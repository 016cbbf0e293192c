// npm run bench (first part): one-message streamed requests (each a new conversation, the bulk of a
// gateway's traffic), one at a time and 8 at once, through the gateway and, in the same run, through
// a CLI-per-request peer (cli-per-request.ts, the way claude-max-api-proxy works). Every path talks
// to the same scripted upstream (no network, no model time), so what is added over a direct call is
// the peer plus the Claude Code CLI. The floor peer (cli-floor.ts) is the CLI alone, kept started:
// the gateway's figures minus the floor's are what the gateway adds. Prints a Markdown table: added time to first token (median and
// p95, ms) and CPU seconds per request of the peer's whole process tree (cpu.ts), over a sustained run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { loadConfig, type ConfigInput } from '../src/config/config.js';
import { bundledClaudePath } from '../src/engine/claude-binary.js';
import { createLogger } from '../src/log.js';
import { startGateway } from '../src/server.js';
import { startFakeUpstream, type FakeUpstream } from '../test/support/fake-upstream.js';
import { startCliFloor } from './cli-floor.js';
import { startCliPerRequest } from './cli-per-request.js';
import { machineCpuSeconds, treeCpuSeconds } from './cpu.js';
import { callDirect, type Sample } from './direct.js';

const KEY = 'bench-key-0123456789';
const REPLY = '[[reply:The quick brown fox jumps over the lazy dog and keeps running far away.]]';
/** Each request its own text, as real one-message traffic is (identical histories are one conversation). */
let asked = 0;
const prompt = () => `Request ${++asked}. ${REPLY}`;
const LEVELS = [1, 8];
const PER_LEVEL: Record<number, number> = { 1: Number(process.env.BENCH_N1 ?? 16), 8: Number(process.env.BENCH_N8 ?? 40) };
/** Which peers to run (comma-separated names below); all by default. */
const ONLY = process.env.BENCH_PEERS?.split(',');

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function streamed(client: OpenAI): Promise<Sample> {
  const t0 = performance.now();
  const stream = await client.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: prompt() }] });
  let ttft = 0;
  for await (const c of stream) if (!ttft && c.choices[0]?.delta?.content) ttft = performance.now() - t0;
  return { ttft, total: performance.now() - t0 };
}

async function run(concurrency: number, n: number, once: () => Promise<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        out.push(await once());
      }
    }),
  );
  return out;
}

interface Peer {
  name: string;
  start(up: FakeUpstream, dataDir: string): Promise<{ client: OpenAI; close(): Promise<void>; note?: () => string }>;
}

const upstreamEnv = (up: FakeUpstream, home: string) => ({ PATH: process.env.PATH ?? '', HOME: home, ANTHROPIC_BASE_URL: up.url, ANTHROPIC_API_KEY: 'sk-ant-bench' });
const clientOf = (baseURL: string) => new OpenAI({ baseURL, apiKey: KEY, maxRetries: 0, timeout: 300_000 });

function gatewayPeer(name: string, over: ConfigInput): Peer {
  return {
    name,
    async start(up, dataDir) {
      const config = loadConfig({}, { port: 0, dataDir, apiKeys: [KEY], logLevel: 'silent', maxConcurrency: 8, ...over });
      const gw = await startGateway({ config, env: upstreamEnv(up, dataDir), log: createLogger('silent'), prewarm: ['sonnet'] });
      const e = gw.engine;
      return { client: clientOf(`${gw.url}/v1`), close: () => gw.stop(), note: () => `warm hits ${e.pool.hits}, rewound ${e.lifecycle.rewound}, misses ${e.pool.misses}, CLI processes started ${e.spawned}, evicted ${e.stats().conversations_evicted} conversations and ${e.lifecycle.sparesEvicted} spares, idle ${(e.lifecycle.idleBytes() / 2 ** 20).toFixed(0)} of ${(e.stats().idle_memory_budget_bytes / 2 ** 20).toFixed(0)} MB` };
    },
  };
}

const PEERS: Peer[] = [
  gatewayPeer('gateway (default: spares, one-shot processes rewound)', {}),
  gatewayPeer('gateway, spares only (GATEWAY_REWIND_ONE_SHOTS=false)', { rewindOneShots: false }),
  {
    name: 'the CLI alone, kept started (floor: cli-floor.ts)',
    async start(up, dataDir) {
      const claude = process.env.GATEWAY_CLAUDE_PATH ?? bundledClaudePath();
      if (!claude) throw new Error('no Claude Code CLI for the floor');
      const server = await startCliFloor(claude, upstreamEnv(up, dataDir), Math.max(...LEVELS));
      return { client: clientOf(server.url), close: () => server.close() };
    },
  },
  {
    name: 'CLI per request (baseline peer)',
    async start(up, dataDir) {
      const claude = process.env.GATEWAY_CLAUDE_PATH ?? bundledClaudePath();
      if (!claude) throw new Error('no Claude Code CLI for the baseline');
      const server = await startCliPerRequest(claude, upstreamEnv(up, dataDir));
      return { client: clientOf(server.url), close: () => server.close() };
    },
  },
];

const fmt = (n: number) => n.toFixed(0);

async function main() {
  const up = await startFakeUpstream();
  const rows: string[] = [];
  const load = os.loadavg()[0];
  for (const peer of PEERS.filter((p) => !ONLY || ONLY.some((o) => p.name.startsWith(o)))) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-bench-'));
    const p = await peer.start(up, dataDir);
    await streamed(p.client); // the first request also warms the turn shape
    for (const c of LEVELS) {
      const n = PER_LEVEL[c];
      // Steady state: a first wave at this concurrency lets spares grow to it; it is not measured.
      await run(c, c, () => streamed(p.client));
      const d = await run(c, n, () => callDirect(up, [{ role: 'user', content: prompt() }]));
      const cpu0 = treeCpuSeconds();
      const machine0 = machineCpuSeconds();
      const g = await run(c, n, () => streamed(p.client));
      // Spares started for this run's requests finish starting inside it: wait for them to be counted.
      await new Promise((r) => setTimeout(r, 3000));
      const cpu = (treeCpuSeconds() - cpu0) / n;
      const machine = (machineCpuSeconds() - machine0) / n;
      const m = (xs: Sample[], k: keyof Sample, q: number) => pct(xs.map((x) => x[k]), q);
      rows.push(`| ${peer.name} | ${c} | ${n} | ${fmt(m(g, 'ttft', 50) - m(d, 'ttft', 50))} | ${fmt(m(g, 'ttft', 95) - m(d, 'ttft', 95))} | ${cpu.toFixed(2)} | ${machine.toFixed(2)} |`);
      process.stderr.write(`${peer.name}, concurrency ${c}: done${p.note ? ` (${p.note()})` : ''}\n`);
    }
    await p.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  await up.close();
  console.log(
    `\nOne-message streamed requests (each a new conversation), added over a direct call to the same scripted upstream (${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${load.toFixed(1)} at the start):\n`,
  );
  console.log('| peer | concurrency | requests | added TTFT p50, ms | added TTFT p95, ms | CPU s per request (its process tree) | machine CPU s per request (/proc/stat, all load) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

void main();
