// npm run soak: random client disconnects against the real gateway and CLI (scripted upstream).
// Each request streams a slow answer and is dropped at a random moment (before the answer, mid-stream)
// or read to its end; then the gateway must be idle again. Reports orphans (CLI processes the gateway
// no longer accounts for, upstream connections left open) and the gateway's memory, sampled as it runs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { startGateway } from '../src/server.js';
import { startFakeUpstream } from '../test/support/fake-upstream.js';

const KEY = 'soak-key-0123456789';
const N = Number(process.env.SOAK_N ?? 450);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 6);

/** CLI processes that are children of this process (the gateway runs in it). */
function childClis(): number {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    return out.split('\n').filter((l) => /claude/.test(l)).length;
  } catch {
    return 0; // ps exits 1 when there is no child
  }
}

async function main() {
  const up = await startFakeUpstream();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-soak-'));
  const config = loadConfig({}, { port: 0, dataDir, apiKeys: [KEY], logLevel: 'silent', maxConcurrency: CONCURRENCY });
  const env = { PATH: process.env.PATH, HOME: dataDir, ANTHROPIC_BASE_URL: up.url, ANTHROPIC_API_KEY: 'sk-ant-soak' };
  const gw = await startGateway({ config, env, log: createLogger('silent'), prewarm: ['sonnet'] });
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 500);
  const outcomes = { aborted_before_answer: 0, aborted_mid_stream: 0, completed: 0, errors: 0 };
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const ac = new AbortController();
        const mode = i % 3; // 0: abort before the answer, 1: abort mid-stream, 2: read to the end
        try {
          const res = await fetch(`${gw.url}/v1/chat/completions`, {
            method: 'POST',
            signal: ac.signal,
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: `soak ${i} [[wait:${mode === 0 ? 400 : 0}]] [[slow:20]] [[long:40]]` }] }),
          });
          if (mode === 0) {
            ac.abort();
            outcomes.aborted_before_answer++;
            continue;
          }
          const reader = res.body!.getReader();
          let chunks = 0;
          for (;;) {
            const { done } = await reader.read();
            if (done) break;
            if (mode === 1 && ++chunks === 2 + (i % 7)) {
              ac.abort();
              break;
            }
          }
          outcomes[mode === 1 ? 'aborted_mid_stream' : 'completed']++;
        } catch (e) {
          if ((e as Error).name === 'AbortError') outcomes.aborted_before_answer++;
          else outcomes.errors++;
        }
      }
    }),
  );
  // Idle again: no turn running, no upstream connection open, no CLI process but idle ones.
  const deadline = Date.now() + 30_000;
  const e = gw.engine;
  const idle = () => e.limiter.running === 0 && up.open() === 0 && e.liveProcesses() === e.conversations.live.size + e.pool.idleCount();
  while (!idle() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  clearInterval(sampler);
  const known = e.conversations.live.size + e.pool.idleCount();
  const result = {
    requests: N,
    concurrency: CONCURRENCY,
    seconds: Math.round((Date.now() - started) / 1000),
    ...outcomes,
    idle_within_30s: idle(),
    orphan_cli_processes: Math.max(0, childClis() - known),
    cli_processes_idle: known,
    upstream_connections_open: up.open(),
    rss_mb_first: Math.round(rss[0] / 2 ** 20),
    rss_mb_max: Math.round(Math.max(...rss) / 2 ** 20),
    rss_mb_last: Math.round(rss[rss.length - 1] / 2 ** 20),
  };
  console.log(JSON.stringify(result, null, 2));
  await gw.stop();
  await up.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (!result.idle_within_30s || result.orphan_cli_processes || result.upstream_connections_open) process.exitCode = 1;
}

void main();
