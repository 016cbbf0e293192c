// Collects the assistant message a turn gave the client, from its events, in the conversation's
// terms (the client's tool names, parsed tool input): the message the client's next request will
// carry back, so the conversation point after it can be named.
import type { ChatMessage, Part, TurnEvent } from './types.js';

interface Block {
  part: Part;
  json: string;
}

export class AnswerCollector {
  private readonly blocks = new Map<number, Block>();

  push(ev: TurnEvent): void {
    if (ev.type === 'block_start') {
      const b = ev.block;
      const part: Part = b.type === 'text' ? { type: 'text', text: '' } : b.type === 'thinking' ? { type: 'thinking', text: '' } : { type: 'tool_call', id: b.id, name: b.name, input: {} };
      this.blocks.set(ev.index, { part, json: '' });
      return;
    }
    const blk = 'index' in ev ? this.blocks.get(ev.index) : undefined;
    if (!blk) return;
    const p = blk.part;
    if (ev.type === 'text_delta' && p.type === 'text') p.text += ev.text;
    else if (ev.type === 'thinking_delta' && p.type === 'thinking') p.text += ev.text;
    else if (ev.type === 'signature_delta' && p.type === 'thinking') p.signature = (p.signature ?? '') + ev.signature;
    else if (ev.type === 'tool_input_delta') blk.json += ev.json;
    else if (ev.type === 'block_stop' && p.type === 'tool_call') {
      try {
        p.input = blk.json.trim() ? JSON.parse(blk.json) : {};
      } catch {
        p.input = {};
      }
    }
  }

  message(): ChatMessage {
    const content = [...this.blocks.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b.part);
    return { role: 'assistant', content };
  }
}
