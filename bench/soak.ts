// npm run soak: the long mixed soak (issue 20). A real `serve` gateway (a child process) with the real
// CLI behind it and the scripted upstream, under a steady mix at once: multi-turn conversations,
// one-shot requests, tool round trips and client disconnects; a SIGTERM restart, a kill -9 restart
// and (with Redis, started here from redis-server with its append-only file) a Redis outage on the way.
// Every SOAK_REPORT_MS it prints the gateway's RSS, open fds, CLI processes, files in its temp folder
// (and of them, those live CLI processes hold: their own TMPDIRs, resumed sessions' config dirs) and
// data dir, the store's size and Redis' keys. At the end every conversation that had an answered
// turn is taken one turn further (the answer and the exact history that reached the API checked), and
// it counts unexpected errors and processes left behind. Flat = each resource's average over the last
// third is less than 5 % above the first third's (under load: not the sample taken before it starts);
// for temp files, those no live process holds (live processes' come and go with them, and the
// processes are judged themselves).
// Env: SOAK_MINUTES (60), SOAK_REPORT_MS (300000), SOAK_CONCURRENCY (4), SOAK_REDIS (1), SOAK_OUTAGE_MS (60000).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { answerText, modelRequests, turnsOf, turnText } from '../test/support/conversation.js';
import { expectedTurns } from '../test/support/durable.js';
import { startFakeUpstream } from '../test/support/fake-upstream.js';
import { freePort, startRedis, type RedisServer } from '../test/support/redis.js';
import { weatherTool } from '../test/support/tools.js';
import { countFiles, diskBytes, GatewayProcess } from './soak-gateway.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const REPORT_MS = Number(process.env.SOAK_REPORT_MS ?? 300_000);
const SAMPLE_MS = Math.min(REPORT_MS, 30_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 4);
const WITH_REDIS = process.env.SOAK_REDIS !== '0';
const OUTAGE_MS = Number(process.env.SOAK_OUTAGE_MS ?? 60_000);
const TURNS_PER_CONVERSATION = 6;
const KEY = `soak-${crypto.randomUUID()}`;
const DURATION = MINUTES * 60_000;

interface Sample {
  t: number;
  rss: number;
  fds: number;
  cli: number;
  tmpFiles: number;
  /** Of tmpFiles, those of live CLI processes, removed when each exits: their own TMPDIRs
   * (engine/processes/process-tmp.ts) and the SDK's claude-resume-* config dirs of resumed sessions. */
  liveTmpFiles: number;
  /** tmpFiles less liveTmpFiles: what no live process holds (tsx's compile cache, and anything left behind). */
  leftTmpFiles: number;
  dataFiles: number;
  storeMb: number;
  redisKeys: number | string;
}

class Conversation {
  readonly tag = `s${crypto.randomBytes(4).toString('hex')}`;
  readonly messages: OpenAI.ChatCompletionMessageParam[] = [];
  answered = 0;
  busy = false;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-soak-'));
const up = await startFakeUpstream();
let redis: RedisServer | undefined;
let redisPort = 0;
if (WITH_REDIS) {
  fs.mkdirSync(path.join(root, 'redis'));
  redisPort = await freePort();
  redis = await startRedis({ port: redisPort, dir: path.join(root, 'redis') });
}
const gw = new GatewayProcess({ root, port: await freePort(), apiKey: KEY, upstreamUrl: up.url, redisUrl: redis?.url });
await gw.start();
const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 180_000 });
const redisClient = WITH_REDIS ? new Redis({ port: redisPort, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 1_000 }) : undefined;
redisClient?.on('error', () => {});
await redisClient?.connect().catch(() => {});

const started = Date.now();
const loadAtStart = os.loadavg().map((n) => n.toFixed(1)).join(' ');
const counts = { conversation_turns: 0, one_shots: 0, tool_round_trips: 0, disconnects: 0, lost_in_restart: 0, unexpected_errors: 0 };
const unexpected: string[] = [];
/** Restarts and outages: [start, end]; a request that overlapped a restart may fail (it was in flight). */
const restarts: [number, number][] = [];
/** Settles when a restart under way is over: clients wait for it, as a client retrying with backoff would. */
let restarting: Promise<void> | undefined;
const events: string[] = [];
const conversations: Conversation[] = [];

function failed(what: string, since: number, err: unknown): void {
  const overlapped = restarts.some(([a, b]) => since <= b && Date.now() >= a);
  if (overlapped) {
    counts.lost_in_restart++;
    return;
  }
  counts.unexpected_errors++;
  const lastRestart = restarts.at(-1);
  const after = lastRestart ? `, ${((since - lastRestart[1]) / 1000).toFixed(1)} s after the last restart was over` : '';
  if (unexpected.length < 20) unexpected.push(`${minutes(Date.now())} ${what} (sent at ${minutes(since)}${after}): ${describe(err)}`);
}

/** An error with its causes: the OpenAI client's "Connection error." says nothing; the cause (undici's
 * socket error, with the socket's byte counts: a reused keep-alive socket has read bytes before) does. */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; code?: string; cause?: unknown; socket?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    parts.push(`${e.message ?? String(e)}${e.code ? ` [${e.code}]` : ''}${e.socket ? ` ${JSON.stringify(e.socket)}` : ''}`);
  }
  return parts.join(' <- ');
}

/** The model request that carried this user text last (the upstream keeps its requests; we trim them). */
const requestWith = (text: string) => modelRequests(up).reverse().find((r) => turnsOf(r).at(-1)?.text === text);

async function conversationTurn(c: Conversation): Promise<void> {
  const n = c.answered + 1;
  const text = turnText(n, c.tag);
  const res = await client.chat.completions.create({ model: 'sonnet', messages: [...c.messages, { role: 'user', content: text }] });
  const got = res.choices[0].message.content;
  if (got !== answerText(n, c.tag)) throw new Error(`${c.tag} turn ${n}: wrong answer ${String(got).slice(0, 80)}`);
  const sent = requestWith(text);
  if (!sent || JSON.stringify(turnsOf(sent)) !== JSON.stringify(expectedTurns(n, c.tag))) throw new Error(`${c.tag} turn ${n}: the API did not get exactly the conversation's turns`);
  c.messages.push({ role: 'user', content: text }, { role: 'assistant', content: got });
  c.answered = n;
}

function pickConversation(): Conversation {
  const open = conversations.filter((c) => !c.busy && c.answered < TURNS_PER_CONVERSATION);
  if (open.length >= CONCURRENCY) return open[Math.floor(Math.random() * open.length)];
  const c = new Conversation();
  conversations.push(c);
  return c;
}

async function oneShot(i: number): Promise<void> {
  const res = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: `one-shot ${i} [[reply:shot ${i} ok]]` }] });
  if (res.choices[0].message.content !== `shot ${i} ok`) throw new Error(`one-shot ${i}: ${res.choices[0].message.content}`);
}

async function toolRoundTrip(i: number): Promise<void> {
  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: weatherTool }];
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: `tool ${i} [[tool:get_weather:{"city":"Oslo${i}"}]] [[after-tool:Weather ${i}:]]` }];
  const first = await client.chat.completions.create({ model: 'sonnet', messages, tools });
  const call = first.choices[0].message.tool_calls?.[0];
  if (!call || call.type !== 'function' || JSON.parse(call.function.arguments).city !== `Oslo${i}`) throw new Error(`tool ${i}: no tool call`);
  messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: `sunny ${i}` });
  const second = await client.chat.completions.create({ model: 'sonnet', messages, tools });
  if (second.choices[0].message.content !== `Weather ${i}: sunny ${i}`) throw new Error(`tool ${i}: ${second.choices[0].message.content}`);
}

async function disconnect(i: number): Promise<void> {
  const ac = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'sonnet', stream: true, messages: [{ role: 'user', content: `drop ${i} [[slow:20]] [[long:40]]` }] },
    { signal: ac.signal },
  );
  let chunks = 0;
  try {
    for await (const _ of stream) if (++chunks === 2 + (i % 5)) ac.abort();
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  }
}

async function worker(w: number): Promise<void> {
  for (let i = w; Date.now() - started < DURATION; i += CONCURRENCY) {
    const since = Date.now();
    const kind = i % 10;
    let c: Conversation | undefined;
    try {
      if (kind < 4) {
        c = pickConversation();
        c.busy = true;
        await conversationTurn(c);
        counts.conversation_turns++;
      } else if (kind < 6) {
        await oneShot(i);
        counts.one_shots++;
      } else if (kind < 8) {
        await toolRoundTrip(i);
        counts.tool_round_trips++;
      } else {
        await disconnect(i);
        counts.disconnects++;
      }
    } catch (err) {
      failed(['conversation', 'one-shot', 'tool round trip', 'disconnect'][kind < 4 ? 0 : kind < 6 ? 1 : kind < 8 ? 2 : 3], since, err);
      // The gateway is going down or starting: wait for it rather than spin on refused connections.
      if (restarting) await restarting;
    } finally {
      if (c) c.busy = false;
    }
  }
}

async function restart(signal: NodeJS.Signals): Promise<void> {
  const w: [number, number] = [Date.now(), Infinity];
  restarts.push(w);
  restarting = (async () => {
    await gw.stop(signal);
    await gw.start();
  })();
  await restarting;
  restarting = undefined;
  w[1] = Date.now();
  events.push(`${minutes(w[0])} ${signal} restart: healthy again after ${((w[1] - w[0]) / 1000).toFixed(1)} s`);
}

async function redisOutage(): Promise<void> {
  const t = Date.now();
  await redis!.kill();
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  redis = await startRedis({ port: redisPort, dir: path.join(root, 'redis') });
  events.push(`${minutes(t)} Redis killed (SIGKILL), started again after ${(OUTAGE_MS / 1000).toFixed(0)} s`);
}

const minutes = (t: number) => `${((t - started) / 60_000).toFixed(1)} min`;

async function sample(): Promise<Sample> {
  const tmpFiles = countFiles(gw.tmpDir);
  const live = (n: string) => n === `claude-gateway-${process.getuid?.() ?? 0}` || n.startsWith('claude-resume-');
  const liveTmpFiles = fs.readdirSync(gw.tmpDir).filter(live).reduce((n, d) => n + countFiles(path.join(gw.tmpDir, d)), 0);
  let redisKeys: number | string = '-';
  if (redisClient) redisKeys = await redisClient.dbsize().catch(() => 'down');
  return {
    t: Date.now() - started,
    rss: gw.rssMb(),
    fds: gw.fds(),
    cli: gw.cliProcesses(),
    tmpFiles,
    liveTmpFiles,
    leftTmpFiles: tmpFiles - liveTmpFiles,
    dataFiles: countFiles(gw.dataDir),
    storeMb: Math.round((diskBytes(path.join(gw.dataDir, 'conversations')) / 1_048_576) * 10) / 10,
    redisKeys,
  };
}

const samples: Sample[] = [];
const row = (s: Sample) =>
  `| ${(s.t / 60_000).toFixed(0)} | ${s.rss} | ${s.fds} | ${s.cli} | ${s.tmpFiles} (${s.liveTmpFiles}) | ${s.dataFiles} | ${s.storeMb} | ${s.redisKeys} | ${counts.conversation_turns + counts.one_shots + counts.tool_round_trips + counts.disconnects} |`;
console.log(
  `# soak: ${MINUTES} min, ${CONCURRENCY} clients, Redis ${WITH_REDIS ? 'on' : 'off'}; ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, load ${os.loadavg().map((n) => n.toFixed(1)).join(' ')} at start`,
);
console.log('| min | gateway RSS MB | open fds | CLI processes | temp files (of live CLI processes) | data dir files | store MB | Redis keys | requests done |\n|---|---|---|---|---|---|---|---|---|');
const first = await sample();
samples.push(first);
console.log(row(first));
let lastReport = Date.now();
const sampler = setInterval(() => {
  void sample().then((s) => {
    samples.push(s);
    if (Date.now() - lastReport >= REPORT_MS - 1_000) {
      lastReport = Date.now();
      console.log(row(s));
    }
  });
  // The upstream keeps every request; the checks need only the recent ones.
  if (up.requests.length > 2_000) up.requests.splice(0, up.requests.length - 500);
}, SAMPLE_MS);

const schedule = [
  { at: 0.3, run: () => restart('SIGTERM') },
  ...(WITH_REDIS ? [{ at: 0.5, run: redisOutage }] : []),
  { at: 0.7, run: () => restart('SIGKILL') },
];
const disruptions = schedule.map(async (e) => {
  await new Promise((r) => setTimeout(r, e.at * DURATION));
  await e.run();
});
await Promise.all([...Array.from({ length: CONCURRENCY }, (_, w) => worker(w)), ...disruptions]);
clearInterval(sampler);
const last = await sample();
samples.push(last);
console.log(row(last));
const loadAtEnd = os.loadavg().map((n) => n.toFixed(1)).join(' ');

// Every conversation with an answered turn goes on: one more turn, answer and history checked.
const toCheck = conversations.filter((c) => c.answered > 0);
let wentOn = 0;
const notOn: string[] = [];
for (let i = 0; i < toCheck.length; i += CONCURRENCY) {
  await Promise.all(
    toCheck.slice(i, i + CONCURRENCY).map(async (c) => {
      try {
        await conversationTurn(c);
        wentOn++;
      } catch (err) {
        if (notOn.length < 10) notOn.push(`${c.tag}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
}

await gw.stop('SIGTERM');
const upstreamOpen = up.open();
let orphans = gw.ownProcesses();
for (let waited = 0; orphans.length && waited < 30_000; waited += 500) {
  await new Promise((r) => setTimeout(r, 500));
  orphans = gw.ownProcesses();
}
for (const pid of orphans) process.kill(pid, 'SIGKILL');
redisClient?.disconnect();
await redis?.stop();
await up.close();

/** Each resource's average over the last third against the first third. */
const third = (k: keyof Sample, from: number, to: number) => {
  // Not the first sample: it is taken before the load starts (one spare process, nothing else).
  const xs = samples.slice(1).filter((s) => s.t >= from * DURATION && s.t <= to * DURATION).map((s) => Number(s[k]));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
};
const growth: Record<string, string> = {};
let flat = true;
for (const k of ['rss', 'fds', 'cli', 'tmpFiles', 'liveTmpFiles', 'leftTmpFiles', 'dataFiles'] as const) {
  const a = third(k, 0, 1 / 3);
  const b = third(k, 2 / 3, 1.01);
  const g = a ? (b - a) / a : b ? Infinity : 0;
  growth[k] = `${a.toFixed(1)} -> ${b.toFixed(1)} (${(g * 100).toFixed(1)} %)`;
  // Live processes' temp files come and go with them (the processes are judged): shown, not judged.
  if (g >= 0.05 && k !== 'tmpFiles' && k !== 'liveTmpFiles') flat = false;
}
const result = {
  minutes: MINUTES,
  ...counts,
  events,
  unexpected,
  conversations_with_answers: toCheck.length,
  conversations_went_on: wentOn,
  conversations_not_on: notOn,
  orphan_processes: orphans.length,
  growth_last_third_over_first: growth,
  store_mb: `${first.storeMb} -> ${last.storeMb} (data: grows with what is kept, 30 days' retention)`,
  upstream_connections_open: upstreamOpen,
  load_average: `${loadAtStart} at start, ${loadAtEnd} at end`,
  verdict: flat && !counts.unexpected_errors && wentOn === toCheck.length && !orphans.length && !upstreamOpen ? 'FLAT, nothing lost' : 'NOT FLAT or something lost',
  flat,
};
console.log(JSON.stringify(result, null, 2));
// The gateway's log outlives the run when something went wrong, to find out what.
if (!result.verdict.startsWith('FLAT')) {
  const kept = path.join(os.tmpdir(), `ccg-soak-gateway-${Date.now()}.log`);
  fs.copyFileSync(path.join(root, 'gateway.log'), kept);
  console.log(`gateway log kept: ${kept}`);
}
fs.rmSync(root, { recursive: true, force: true });
process.exit(result.verdict.startsWith('FLAT') ? 0 : 1);
