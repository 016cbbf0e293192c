// TurnEvents -> Anthropic Messages: one message object, or the SSE event sequence
// message_start -> content_block_start/delta/stop (dense indexes) -> message_delta -> message_stop.
import type { Turn, TurnEvent, Usage } from '../../engine/types.js';
import { collectBlocks, parseToolInput, type DoneEvent } from '../shared/collect.js';

export function anthropicUsage(u: Usage) {
  return {
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: u.cacheCreationTokens,
    cache_read_input_tokens: u.cacheReadTokens,
  };
}

/** Collects a whole turn into a Message. */
export async function collectMessage(turn: Turn) {
  const { blocks, done } = await collectBlocks(turn);
  const content = blocks.map((b) => {
    if (b.type === 'text') return { type: 'text', text: b.text };
    if (b.type === 'thinking') return { type: 'thinking', thinking: b.thinking, signature: b.signature };
    return { type: 'tool_use', id: b.id, name: b.name, input: parseToolInput(b.json) };
  });
  return {
    id: `msg_${turn.id}`,
    type: 'message',
    role: 'assistant',
    model: turn.model,
    content,
    stop_reason: done.stopReason,
    stop_sequence: done.stopSequence,
    usage: anthropicUsage(done.usage),
  };
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

const ev = (event: string, data: Record<string, unknown> = {}): SseEvent => ({ event, data: { type: event, ...data } });

/** Renders streaming events; renumbers blocks densely and closes any block left open at the end. */
export class MessageStreamEncoder {
  private readonly indexes = new Map<number, number>();
  private readonly open = new Set<number>();
  private next = 0;

  constructor(private readonly turn: Turn) {}

  /** message_start, with the input usage when the turn's first event brought it. */
  start(usage?: Usage): SseEvent[] {
    return [
      ev('message_start', {
        message: {
          id: `msg_${this.turn.id}`,
          type: 'message',
          role: 'assistant',
          model: this.turn.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // Zeros only when the model had not started by the time the stream opened; message_delta
          // carries the final counts either way.
          usage: anthropicUsage(usage ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 }),
        },
      }),
    ];
  }

  encode(e: TurnEvent): SseEvent[] {
    if (e.type === 'done') return this.finish(e);
    if (e.type === 'usage') return [];
    if (e.type === 'block_start') {
      const index = this.next++;
      this.indexes.set(e.index, index);
      this.open.add(index);
      const b = e.block;
      const content_block =
        b.type === 'text'
          ? { type: 'text', text: '' }
          : b.type === 'thinking'
            ? { type: 'thinking', thinking: '', signature: '' }
            : { type: 'tool_use', id: b.id, name: b.name, input: {} };
      return [ev('content_block_start', { index, content_block })];
    }
    const index = this.indexes.get(e.index);
    if (index === undefined || !this.open.has(index)) return [];
    switch (e.type) {
      case 'block_stop':
        this.open.delete(index);
        return [ev('content_block_stop', { index })];
      case 'text_delta':
        return e.text ? [ev('content_block_delta', { index, delta: { type: 'text_delta', text: e.text } })] : [];
      case 'thinking_delta':
        return e.text ? [ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: e.text } })] : [];
      case 'signature_delta':
        return [ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: e.signature } })];
      case 'tool_input_delta':
        return [ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: e.json } })];
    }
  }

  private finish(done: DoneEvent): SseEvent[] {
    const out = [...this.open].map((index) => ev('content_block_stop', { index }));
    this.open.clear();
    out.push(
      ev('message_delta', { delta: { stop_reason: done.stopReason, stop_sequence: done.stopSequence }, usage: anthropicUsage(done.usage) }),
      ev('message_stop'),
    );
    return out;
  }
}

export function formatSse(e: SseEvent): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}
