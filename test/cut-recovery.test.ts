// An upstream stream cut mid-answer is recovered (issue 10, item 3): Claude Code gets the answer again
// (a retried stream, its non-streaming fallback, or a resume request) and the gateway sends only what
// the client has not seen. Measured over many cuts, through the real clients of all three dialects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

type Dialect = 'chat' | 'responses' | 'anthropic';
const DIALECTS: Dialect[] = ['chat', 'responses', 'anthropic'];

interface Outcome {
  text: string;
  /** Text deltas in order (streaming), to see nothing was sent twice. */
  deltas: string[];
  finished: boolean;
  error?: unknown;
}

function clients(h: Harness) {
  return {
    openai: new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 }),
    anthropic: new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 }),
  };
}

async function ask(h: Harness, dialect: Dialect, prompt: string, stream: boolean): Promise<Outcome> {
  const { openai, anthropic } = clients(h);
  const out: Outcome = { text: '', deltas: [], finished: false };
  try {
    if (dialect === 'chat') {
      if (!stream) {
        const r = await openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: prompt }] });
        out.text = r.choices[0].message.content ?? '';
        out.finished = r.choices[0].finish_reason === 'stop';
      } else {
        const s = await openai.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: prompt }] });
        for await (const c of s) {
          const d = c.choices[0]?.delta.content;
          if (d) out.deltas.push(d);
          if (c.choices[0]?.finish_reason === 'stop') out.finished = true;
        }
      }
    } else if (dialect === 'responses') {
      if (!stream) {
        const r = await openai.responses.create({ model: 'sonnet', input: prompt });
        out.text = r.output_text;
        out.finished = r.status === 'completed';
      } else {
        const s = await openai.responses.create({ model: 'sonnet', stream: true, input: prompt });
        for await (const ev of s) {
          if (ev.type === 'response.output_text.delta') out.deltas.push(ev.delta);
          if (ev.type === 'response.completed') out.finished = true;
          if (ev.type === 'response.failed' || ev.type === 'error') throw Object.assign(new Error('stream failed'), { event: ev });
        }
      }
    } else if (!stream) {
      const r = await anthropic.messages.create({ model: 'sonnet', max_tokens: 200, messages: [{ role: 'user', content: prompt }] });
      out.text = r.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      out.finished = r.stop_reason === 'end_turn';
    } else {
      const s = anthropic.messages.stream({ model: 'sonnet', max_tokens: 200, messages: [{ role: 'user', content: prompt }] });
      for await (const ev of s) {
        if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') out.deltas.push(ev.delta.text);
        if (ev.type === 'message_stop') out.finished = true;
      }
    }
  } catch (e) {
    out.error = e;
  }
  if (stream) out.text = out.deltas.join('');
  return out;
}

const words = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}w${i + 1}`).join(' ');

interface Case {
  dialect: Dialect;
  stream: boolean;
  prompt: string;
  expected: string;
}

/** Cut requests of every shape the CLI recovers from: a retried stream, its non-streaming fallback, a resume after a complete block. */
function cases(count: number, stream: boolean, offset: number): Case[] {
  return Array.from({ length: count }, (_, k) => {
    const i = k + offset;
    const expected = words(`c${i}${stream ? 's' : 'n'}`, 6 + (i % 5));
    const cutAfter = 1 + (i % 4);
    // 1 cut: the CLI streams again (or, with no retries, fetches without streaming); 3 cuts: it runs out of retries and fetches without streaming.
    const times = i % 5 === 4 ? 3 : 1;
    const thinking = i % 4 === 3 ? '[[thinking:pondering]] ' : '';
    return { dialect: DIALECTS[i % 3], stream, expected, prompt: `${thinking}[[reply:${expected}]] [[cut]] [[cut-after:${cutAfter}]] [[cut-times:${times}]]` };
  });
}

async function runAll(h: Harness, list: Case[], parallel: number) {
  const results: { c: Case; o: Outcome }[] = [];
  for (let i = 0; i < list.length; i += parallel) {
    const batch = list.slice(i, i + parallel);
    results.push(...(await Promise.all(batch.map(async (c) => ({ c, o: await ask(h, c.dialect, c.prompt, c.stream) })))));
  }
  return results;
}

function assertRecovered(results: { c: Case; o: Outcome }[]) {
  const failed = results.filter(({ c, o }) => o.error || !o.finished || o.text !== c.expected);
  const detail = failed.map(({ c, o }) => `${c.dialect}/${c.stream ? 'stream' : 'whole'} ${c.prompt} -> ${JSON.stringify(o.text)} ${o.error ? String((o.error as Error).message) : ''}`);
  assert.equal(failed.length, 0, `${results.length - failed.length} of ${results.length} recovered:\n${detail.join('\n')}`);
  // Streaming: every delta is new text (nothing sent twice), and the deltas add up to the answer exactly.
  for (const { c, o } of results) if (c.stream) assert.equal(o.deltas.join(''), c.expected);
}

describe('with the CLI retrying (GATEWAY_CLI_MAX_RETRIES 2, the default)', () => {
  let h: Harness;
  before(async () => {
    // Process reuse keeps CLI start-ups (CPU-bound) out of the measurement; the translation is the same.
    h = await startHarness({ cliMaxRetries: 2, maxConcurrency: 3, reuseProcesses: true, warmPerProfile: 3 }, { prewarm: ['sonnet'] });
  });
  after(() => h.close());

  test('20 streaming requests cut mid-answer: each client gets the rest of the answer exactly once', async () => {
    const list = cases(20, true, 0);
    assertRecovered(await runAll(h, list, 3));
    // Every one of them was really cut: more upstream attempts than requests.
    assert.ok(h.upstream.requests.filter((r) => r.path === '/v1/messages').length > list.length);
  });

  test('10 non-streaming requests cut mid-answer: each client gets the whole answer', async () => {
    assertRecovered(await runAll(h, cases(10, false, 100), 3));
  });

  test('a re-fetched answer that does not continue what was streamed ends the stream with an error', async () => {
    for (const dialect of DIALECTS) {
      const o = await ask(h, dialect, `[[reply:alpha beta gamma delta]] [[cut]] [[cut-times:1]] [[refetch:something else entirely]] ${dialect}`, true);
      assert.ok(o.error, `${dialect}: expected an error`);
      assert.equal(o.text, 'alpha beta ', `${dialect}: only the text before the cut was sent`);
      assert.ok(!o.finished);
    }
  });

  test('a client that is not streaming gets the re-fetched answer whole, even when it says something else', async () => {
    for (const dialect of DIALECTS) {
      const o = await ask(h, dialect, `[[reply:alpha beta gamma delta]] [[cut]] [[cut-times:1]] [[refetch:something else entirely]] ${dialect}`, false);
      assert.equal(o.error, undefined, `${dialect}: ${o.error}`);
      assert.equal(o.text, 'something else entirely', dialect);
      assert.ok(o.finished, dialect);
    }
  });

  test('a stream cut on every attempt: the non-streaming fallback after the CLI retries completes it', async () => {
    const o = await ask(h, 'chat', '[[reply:one two three four five]] [[cut]]', true);
    // The CLI gets the answer without streaming after its retries: the cut never reaches the client.
    assert.equal(o.error, undefined);
    assert.equal(o.text, 'one two three four five');
  });
});

describe('with the CLI not retrying (its non-streaming fallback at once)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ cliMaxRetries: 0, maxConcurrency: 3, reuseProcesses: true, warmPerProfile: 3 }, { prewarm: ['sonnet'] });
  });
  after(() => h.close());

  test('streaming and whole answers across the dialects are recovered', async () => {
    assertRecovered(await runAll(h, [...cases(2, true, 200), ...cases(2, false, 300)], 3));
  });
});
