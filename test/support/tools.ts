// Shared bits of the client-tool tests: a tool definition, and how to tell from what reached the
// scripted upstream whether a round continued the live turn or rebuilt the conversation.
import type { FakeUpstream } from './fake-upstream.js';

export const weatherTool: { name: string; description: string; parameters: Record<string, unknown> } = {
  name: 'get_weather',
  description: 'The current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city'] },
};

const modelCalls = (up: FakeUpstream) => up.requests.filter((r) => r.path === '/v1/messages').map((r) => JSON.stringify(r.body.messages ?? []));

/** A model request carried the result `text` as a real tool_result block: the suspended turn went on. */
export function answeredLive(up: FakeUpstream, text: string): boolean {
  return modelCalls(up).some((m) => m.includes('"tool_result"') && m.includes(text) && !m.includes('conversation_record'));
}

/** A model request carried the result `text` inside the rebuilt history record (a fresh process). */
export function rebuilt(up: FakeUpstream, text: string): boolean {
  return modelCalls(up).some((m) => m.includes('conversation_record') && m.includes(text) && !m.includes('"type":"tool_result"'));
}
