// Collects a whole turn into its content blocks, in order, for the non-streaming answers of the
// Anthropic and Responses dialects. Block indexes from the engine may have gaps (blocks it hid);
// the result is a dense list.
import type { Turn, TurnEvent } from '../../engine/types.js';

export type CollectedBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; json: string };

export type DoneEvent = Extract<TurnEvent, { type: 'done' }>;

export async function collectBlocks(turn: Turn): Promise<{ blocks: CollectedBlock[]; done: DoneEvent }> {
  const byIndex = new Map<number, CollectedBlock>();
  const order: CollectedBlock[] = [];
  let done: DoneEvent | undefined;
  for await (const ev of turn.events) {
    if (ev.type === 'done') {
      done = ev;
      break;
    }
    if (ev.type === 'block_start') {
      const b: CollectedBlock =
        ev.block.type === 'text'
          ? { type: 'text', text: '' }
          : ev.block.type === 'thinking'
            ? { type: 'thinking', thinking: '', signature: '' }
            : { type: 'tool_use', id: ev.block.id, name: ev.block.name, json: '' };
      byIndex.set(ev.index, b);
      order.push(b);
      continue;
    }
    if (ev.type === 'block_stop' || ev.type === 'usage') continue;
    const b = byIndex.get(ev.index);
    if (!b) continue;
    if (ev.type === 'text_delta' && b.type === 'text') b.text += ev.text;
    else if (ev.type === 'thinking_delta' && b.type === 'thinking') b.thinking += ev.text;
    else if (ev.type === 'signature_delta' && b.type === 'thinking') b.signature += ev.signature;
    else if (ev.type === 'tool_input_delta' && b.type === 'tool_use') b.json += ev.json;
  }
  if (!done) throw new Error('turn ended without a done event');
  return { blocks: order, done };
}

/** Tool-call arguments from a client's history: parsed when JSON, else the string as sent. */
export function historyArguments(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

export function parseToolInput(json: string): unknown {
  if (!json.trim()) return {};
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
}
