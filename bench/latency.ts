// npm run bench: the latency the gateway adds over calling the upstream directly.
// Both paths talk to the same scripted upstream (no network, no model time), so the difference is
// the gateway plus the Claude Code CLI. Prints a Markdown table (median and p95, milliseconds).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { loadConfig, type ConfigInput } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { startGateway } from '../src/server.js';
import { startFakeUpstream, type FakeUpstream } from '../test/support/fake-upstream.js';
import { callDirect, type Sample } from './direct.js';

const KEY = 'bench-key-0123456789';
const PROMPT = '[[reply:The quick brown fox jumps over the lazy dog and keeps running far away.]]';
const PER_LEVEL: Record<number, number> = { 1: Number(process.env.BENCH_N1 ?? 20), 16: Number(process.env.BENCH_N16 ?? 48) };

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const direct = (up: FakeUpstream) => callDirect(up, [{ role: 'user', content: PROMPT }]);

async function viaGateway(client: OpenAI): Promise<Sample> {
  const t0 = performance.now();
  const stream = await client.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: PROMPT }] });
  let ttft = 0;
  for await (const c of stream) if (!ttft && c.choices[0]?.delta.content) ttft = performance.now() - t0;
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

const fmt = (n: number) => n.toFixed(0).padStart(5);

async function main() {
  const up = await startFakeUpstream();
  const rows: string[] = [];
  const scenarios: { name: string; config: ConfigInput }[] = [
    { name: 'default: warm pool', config: {} },
    { name: 'warm pool + process reuse (opt-in)', config: { reuseProcesses: true } },
    { name: 'neither: a cold CLI per request', config: { reuseProcesses: false, warmProfiles: 0 } },
  ];
  for (const sc of scenarios) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-bench-'));
    const config = loadConfig({}, { port: 0, dataDir, apiKeys: [KEY], logLevel: 'silent', ...sc.config });
    const env = { PATH: process.env.PATH, HOME: dataDir, ANTHROPIC_BASE_URL: up.url, ANTHROPIC_API_KEY: 'sk-ant-bench' };
    const gw = await startGateway({ config, env, log: createLogger('silent'), prewarm: ['sonnet'] });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 120_000 });
    await viaGateway(client); // first request also warms the turn shape
    for (const c of [1, 16]) {
      const n = PER_LEVEL[c];
      // Steady state: a first wave at this concurrency lets the pool grow to it; it is not measured.
      await run(c, c, () => viaGateway(client));
      const d = await run(c, n, () => direct(up));
      const g = await run(c, n, () => viaGateway(client));
      const m = (xs: Sample[], k: keyof Sample, p: number) => pct(xs.map((x) => x[k]), p);
      rows.push(
        `| ${sc.name} | ${c} | ${n} | ${fmt(m(g, 'ttft', 50) - m(d, 'ttft', 50))} | ${fmt(m(g, 'ttft', 95) - m(d, 'ttft', 95))} | ${fmt(m(g, 'total', 50) - m(d, 'total', 50))} | ${fmt(m(g, 'total', 95) - m(d, 'total', 95))} | ${fmt(m(g, 'ttft', 50))} / ${fmt(m(d, 'ttft', 50))} |`,
      );
      process.stderr.write(`${sc.name}, concurrency ${c}: done (pool hits ${gw.engine.pool.hits}, misses ${gw.engine.pool.misses}, processes started ${gw.engine.spawned})\n`);
    }
    await gw.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  await up.close();
  const cpus = os.cpus().length;
  console.log(`\nAdded latency of the gateway over calling the upstream directly, ms (${cpus} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}):\n`);
  console.log('| scenario | concurrency | requests | added TTFT median | added TTFT p95 | added total median | added total p95 | TTFT median gateway / direct |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

void main();
