// npx tsx bench/cluster.ts: a 20-turn conversation through haproxy (round robin, readiness checks)
// over 3 `serve` replicas on one redis-server, against the same conversation sent to one replica,
// with the scripted upstream emulating Anthropic's prompt caching, and the same conversation with
// every turn sent to a replica that does not hold it (each forwarded: the hop's own cost). Prints the
// fraction of turns 2..20 served live (summed from every replica's /stats conversation_paths), the time to first token
// (p50, p95) of each set-up, the turns forwarded to their owner, and the prompt cache reuse.
import os from 'node:os';
import OpenAI from 'openai';
import { cacheReuse, modelRequests, turnText } from '../test/support/conversation.js';
import { startFakeUpstream } from '../test/support/fake-upstream.js';
import { startHaproxy } from '../test/support/haproxy.js';
import { TEST_KEY } from '../test/support/harness.js';
import { startRedis } from '../test/support/redis.js';
import { startReplicas, stats, stopReplicas, type ServeReplica } from '../test/support/replicas.js';
import { streamedTurn } from './direct.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const pct = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];

async function sumPaths(rs: ServeReplica[]) {
  const all = await Promise.all(rs.map((r) => stats(r)));
  const paths: Record<string, number> = {};
  let forwarded = 0;
  for (const s of all) {
    for (const [k, v] of Object.entries(s.conversation_paths as Record<string, number>)) paths[k] = (paths[k] ?? 0) + v;
    forwarded += s.cluster?.hops.forwarded ?? 0;
  }
  return { paths, forwarded };
}

/** One conversation of TURNS turns; turn i goes to urlFor(i). */
async function conversation(urlFor: (turn: number) => string, tag: string, rs: ServeReplica[], up: Awaited<ReturnType<typeof startFakeUpstream>>) {
  const before = await sumPaths(rs);
  const firstReq = modelRequests(up).length;
  const messages: { role: 'user' | 'assistant'; content: string }[] = [];
  const ttfts: number[] = [];
  for (let i = 1; i <= TURNS; i++) {
    const client = new OpenAI({ baseURL: `${urlFor(i)}/v1`, apiKey: TEST_KEY, maxRetries: 0, timeout: 120_000 });
    messages.push({ role: 'user', content: turnText(i, tag) });
    const { ttft, text } = await streamedTurn(client, messages);
    messages.push({ role: 'assistant', content: text });
    if (i > 1) ttfts.push(ttft);
  }
  const after = await sumPaths(rs);
  const live = (after.paths.live ?? 0) - (before.paths.live ?? 0);
  return { live, of: TURNS - 1, ttfts, forwarded: after.forwarded - before.forwarded, reuse: cacheReuse(modelRequests(up).slice(firstReq + 1)) };
}

type Run = Awaited<ReturnType<typeof conversation>>;
/** Several runs of one set-up as one row. */
function merged(runs: Run[]) {
  const ttfts = runs.flatMap((r) => r.ttfts);
  const sum = (k: 'live' | 'of' | 'forwarded') => runs.reduce((a, r) => a + r[k], 0);
  return { live: sum('live'), of: sum('of'), forwarded: sum('forwarded'), p50: pct(ttfts, 50), p95: pct(ttfts, 95), reuse: runs.reduce((a, r) => a + r.reuse, 0) / runs.length };
}

const redis = await startRedis();
const up = await startFakeUpstream();
const rs = await startReplicas(3, { redisUrl: redis.url, upstreamUrl: up.url });
const lb = await startHaproxy(rs.map((r) => r.port));
try {
  // One unmeasured turn on each, so no replica pays a first start inside the measurement.
  for (const r of rs) await new OpenAI({ baseURL: `${r.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 }).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:warm]]' }] });
  // The set-ups take turns, conversation by conversation, so a change in the machine's load falls on all.
  const SETUPS: { name: string; urlFor: (turn: number) => string }[] = [
    { name: 'one replica (direct)', urlFor: () => rs[0].url },
    { name: '3 replicas behind haproxy, round robin', urlFor: () => lb.url },
    { name: 'every turn sent to a replica that does not hold it (forwarded)', urlFor: (i) => (i === 1 ? rs[1].url : rs[2].url) },
  ];
  const runs = SETUPS.map(() => [] as Run[]);
  for (let k = 0; k < ROUNDS; k++) for (const [j, s] of SETUPS.entries()) runs[j].push(await conversation(s.urlFor, `${j}-${k}`, rs, up));
  const rows = runs.map(merged);
  const row = (name: string, r: (typeof rows)[number]) => `| ${name} | ${r.live}/${r.of} (${((100 * r.live) / r.of).toFixed(0)} %) | ${r.forwarded} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${(100 * r.reuse).toFixed(1)} % |`;
  console.log(`\n${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${ROUNDS} conversations of ${TURNS} turns per set-up\n`);
  console.log('| set-up | turns 2..n live | forwarded | TTFT p50 ms | TTFT p95 ms | input read from cache |');
  console.log('|---|---|---|---|---|---|');
  for (const [j, s] of SETUPS.entries()) console.log(row(s.name, rows[j]));
  console.log(`\nadded TTFT p50 through the balancer: ${(rows[1].p50 - rows[0].p50).toFixed(0)} ms; of a forwarded turn: ${(rows[2].p50 - rows[0].p50).toFixed(0)} ms`);
} finally {
  await lb.stop();
  await stopReplicas(rs);
  await up.close();
  await redis.stop();
}
