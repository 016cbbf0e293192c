// npx tsx bench/tool-round.ts: the latency of one client-tool round (the request that carries the
// tool results, until the continuation is complete) by the two paths the gateway has:
//   live     the suspended turn continues in its parked CLI process
//   import   the suspended turn is gone: the client's history, results included, is written as a
//            transcript and a new CLI process resumes it
// Against the scripted upstream (no model time), so the figures are the gateway's and the CLI's own.
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import OpenAI from 'openai';
import { startHarness, TEST_KEY } from '../test/support/harness.js';

const N = Number(process.env.BENCH_N ?? 15);
const tools: ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
const PROMPT = 'Weather? [[tool:get_weather:{"city":"Paris"}]] [[after-tool:It is]]';

const pct = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];

async function measure(label: string, live: boolean): Promise<string> {
  // Without the warm pool: otherwise each first round's replacement spawn competes for CPU with the measured round.
  const h = await startHarness({ warmProfiles: 0 });
  const client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  const samples: number[] = [];
  try {
    for (let i = 0; i < N + 1; i++) {
      let messages: ChatCompletionMessageParam[];
      if (live) {
        messages = [{ role: 'user', content: PROMPT }];
        const r1 = await client.chat.completions.create({ model: 'sonnet', messages, tools });
        const call = r1.choices[0].message.tool_calls![0];
        messages.push(r1.choices[0].message as ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: 'sunny' });
      } else {
        // A history this gateway never saw (another replica, a restart): ids it has no parked turn for.
        messages = [
          { role: 'user', content: PROMPT },
          { role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: `call_${i}`, content: 'sunny' },
        ];
      }
      const t0 = performance.now();
      const r2 = await client.chat.completions.create({ model: 'sonnet', messages, tools });
      const ms = performance.now() - t0;
      if (r2.choices[0].message.content !== 'It is sunny') throw new Error(`unexpected answer: ${r2.choices[0].message.content}`);
      if (i > 0) samples.push(ms); // the first run warms caches
    }
  } finally {
    await h.close();
  }
  return `| ${label} | ${N} | ${pct(samples, 50).toFixed(0)} | ${pct(samples, 95).toFixed(0)} |`;
}

const rows = [await measure('live (parked process resumed)', true), await measure('resumed from a written transcript', false)];
console.log('| tool-result round | n | median ms | p95 ms |\n|---|---|---|---|\n' + rows.join('\n'));
