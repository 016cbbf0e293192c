// npm run bench (second part): a 20-turn conversation through the gateway, served live (the
// conversation's CLI process kept) and resumed (a new process on the stored transcript each turn),
// against the same scripted upstream with Anthropic's prompt caching emulated. Prints per-turn
// added time to first token, cache reuse (with Claude Code's own session as the yardstick) and the
// memory idle conversation processes hold.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { loadConfig, type ConfigInput } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { startGateway } from '../src/server.js';
import { cacheReuse, claudeCodeSession, modelRequests, turnText } from '../test/support/conversation.js';
import { startFakeUpstream } from '../test/support/fake-upstream.js';
import { callDirect, streamedTurn } from './direct.js';

const KEY = 'bench-key-0123456789';
const TURNS = Number(process.env.BENCH_TURNS ?? 20);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function conversation(name: string, over: ConfigInput) {
  const up = await startFakeUpstream();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-bench-'));
  const config = loadConfig({}, { port: 0, dataDir, apiKeys: [KEY], logLevel: 'silent', ...over });
  const env = { PATH: process.env.PATH, HOME: dataDir, ANTHROPIC_BASE_URL: up.url, ANTHROPIC_API_KEY: 'sk-ant-bench' };
  const gw = await startGateway({ config, env, log: createLogger('silent'), prewarm: ['sonnet'] });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 120_000 });
  const messages: { role: 'user' | 'assistant'; content: string }[] = [];
  const added: number[] = [];
  const first = modelRequests(up).length;
  for (let i = 1; i <= TURNS; i++) {
    messages.push({ role: 'user', content: turnText(i, 'b') });
    const { ttft, text } = await streamedTurn(client, messages);
    messages.push({ role: 'assistant', content: text });
    if (i > 1) added.push(ttft - (await callDirect(up, messages.slice(0, -1), 'sk-ant-direct')).ttft);
  }
  const reuse = cacheReuse(modelRequests(up).slice(first + 1).filter((r) => r.headers['x-api-key'] !== 'sk-ant-direct'));
  const stats = gw.engine.stats();
  await gw.stop();
  await up.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return { name, median: pct(added, 50), p95: pct(added, 95), reuse, paths: stats.conversation_paths };
}

/** Memory held by idle processes after N two-turn conversations, and the budget it stays within. */
async function idleMemory(n: number) {
  const up = await startFakeUpstream();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-bench-'));
  const config = loadConfig({}, { port: 0, dataDir, apiKeys: [KEY], logLevel: 'silent' });
  const env = { PATH: process.env.PATH, HOME: dataDir, ANTHROPIC_BASE_URL: up.url, ANTHROPIC_API_KEY: 'sk-ant-bench' };
  const gw = await startGateway({ config, env, log: createLogger('silent'), prewarm: ['sonnet'] });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 120_000 });
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const messages: { role: 'user' | 'assistant'; content: string }[] = [{ role: 'user', content: `conv ${i} [[reply:one]]` }];
      await client.chat.completions.create({ model: 'sonnet', messages });
      messages.push({ role: 'assistant', content: 'one' }, { role: 'user', content: 'again [[reply:two]]' });
      await client.chat.completions.create({ model: 'sonnet', messages });
    }),
  );
  const s = gw.engine.stats();
  await gw.stop();
  await up.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return s;
}

async function main() {
  const own = await startFakeUpstream();
  await claudeCodeSession(own, Array.from({ length: TURNS }, (_, i) => turnText(i + 1, 'b')));
  const yardstick = cacheReuse(modelRequests(own).slice(1));
  await own.close();
  const rows = [await conversation('live (default)', {}), await conversation('resumed every turn (GATEWAY_CONVERSATION_IDLE_MS=0)', { conversationIdleMs: 0 })];
  const mem = await idleMemory(8);
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`\nA ${TURNS}-turn conversation (~300 tokens a turn), turns 2-${TURNS}; ms added to the time to first token over a direct call with the same history (${os.cpus().length} cores, Node ${process.version}):\n`);
  console.log('| path | added TTFT median | added TTFT p95 | input read from the prompt cache | paths |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.median.toFixed(0)} | ${r.p95.toFixed(0)} | ${(100 * r.reuse).toFixed(1)} % | ${JSON.stringify(r.paths)} |`);
  console.log(`| Claude Code's own session (one CLI process) | | | ${(100 * yardstick).toFixed(1)} % | |`);
  console.log(`\nAfter 8 two-turn conversations at once: ${mem.conversations_live} kept live, ${mb(mem.idle_memory_bytes)} MB held by idle CLI processes (budget ${mb(mem.idle_memory_budget_bytes)} MB).`);
}

void main();
