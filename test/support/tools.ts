// Shared bits of the client-tool tests: a tool definition, and how to tell from what reached the
// scripted upstream whether a round continued the live turn or was resumed from a written transcript.
import { RESULTS_PROMPT } from '../../src/conversations/conversations.js';
import type { FakeUpstream } from './fake-upstream.js';

export const weatherTool: { name: string; description: string; parameters: Record<string, unknown> } = {
  name: 'get_weather',
  description: 'The current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city'] },
};

const modelCalls = (up: FakeUpstream) => up.requests.filter((r) => r.path === '/v1/messages').map((r) => (r.body.messages ?? []) as any[]);
const hasResult = (m: any, text: string) => Array.isArray(m?.content) && m.content.some((b: any) => b.type === 'tool_result' && JSON.stringify(b.content).includes(text));

/** A model request ended with the result `text` as a real tool_result block: the suspended turn went on. */
export function answeredLive(up: FakeUpstream, text: string): boolean {
  return modelCalls(up).some((ms) => hasResult(ms.filter((m) => m.role !== 'system').at(-1), text));
}

/**
 * A model request carried the result `text` as a real tool_result block in a transcript the gateway
 * wrote (the suspended turn was gone), with the note to go on from the results after it.
 */
export function rebuilt(up: FakeUpstream, text: string): boolean {
  return modelCalls(up).some((ms) => {
    const turns = ms.filter((m) => m.role !== 'system');
    return hasResult(turns.at(-3), text) && JSON.stringify(turns.at(-1)).includes(RESULTS_PROMPT);
  });
}
