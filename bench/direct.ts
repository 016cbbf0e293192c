// The baseline both benchmarks subtract: a streamed Messages call straight to the scripted upstream.
import type { FakeUpstream } from '../test/support/fake-upstream.js';

export interface Sample {
  ttft: number;
  total: number;
}

/** Time to the first text delta, and to the end, of a streamed call with these messages. */
export async function callDirect(up: FakeUpstream, messages: { role: string; content: string }[], apiKey = 'x'): Promise<Sample> {
  const t0 = performance.now();
  const res = await fetch(`${up.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet', max_tokens: 1000, stream: true, messages }),
  });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let ttft = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!ttft && dec.decode(value).includes('text_delta')) ttft = performance.now() - t0;
  }
  return { ttft, total: performance.now() - t0 };
}

/** One streamed Chat Completions turn through the gateway: its time to the first text delta, and the text. */
export async function streamedTurn(client: import('openai').default, messages: { role: 'user' | 'assistant'; content: string }[]): Promise<{ ttft: number; text: string }> {
  const t0 = performance.now();
  const stream = await client.chat.completions.create({ model: 'sonnet', stream: true, messages });
  let ttft = 0;
  let text = '';
  for await (const c of stream) {
    const d = c.choices[0]?.delta.content;
    if (d && !ttft) ttft = performance.now() - t0;
    text += d ?? '';
  }
  return { ttft, text };
}
