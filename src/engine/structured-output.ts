// Structured output through the CLI's own support: with `outputFormat` the CLI gives the model a
// "StructuredOutput" tool whose input schema is the client's schema, validates the call's input,
// re-prompts the model when it answers in prose or with invalid input, and reports the validated
// value as `structured_output` on the result frame. Clients asked for the answer to BE the JSON, so
// this rewrites a turn's events: the model's prose and the StructuredOutput call are dropped, and one
// text block carrying the validated JSON is emitted just before `done`. Thinking and client tool
// calls pass through unchanged.
import { GatewayError } from '../errors.js';
import type { TurnEvent } from './types.js';

export const STRUCTURED_OUTPUT_TOOL = 'StructuredOutput';

export class StructuredOutputRewriter {
  private readonly hidden = new Set<number>();
  private nextIndex = 0;
  private clientToolCalled = false;

  /** Rewrite the events one CLI frame produced; `frame` is that frame (the result frame for `done`). */
  rewrite(frame: unknown, events: TurnEvent[]): TurnEvent[] {
    const out: TurnEvent[] = [];
    for (const ev of events) {
      if (ev.type === 'usage') {
        out.push(ev);
        continue;
      }
      if (ev.type !== 'done') {
        this.nextIndex = Math.max(this.nextIndex, ev.index + 1);
        if (ev.type === 'block_start') {
          const b = ev.block;
          if (b.type === 'text' || (b.type === 'tool_use' && b.name === STRUCTURED_OUTPUT_TOOL)) this.hidden.add(ev.index);
          else if (b.type === 'tool_use') this.clientToolCalled = true;
        }
        if (!this.hidden.has(ev.index)) out.push(ev);
        continue;
      }
      // A truncated answer or a turn handed back for client tools has no structured output to give.
      if (ev.stopReason === 'max_tokens' || (ev.stopReason === 'tool_use' && this.clientToolCalled)) {
        out.push(ev);
        continue;
      }
      const value = (frame as { type?: string; structured_output?: unknown } | undefined)?.structured_output;
      if (value === undefined) {
        throw new GatewayError('upstream_error', 'The model did not produce an answer matching the requested JSON schema.', {
          code: 'structured_output_failed',
        });
      }
      const index = this.nextIndex++;
      out.push(
        { type: 'block_start', index, block: { type: 'text' } },
        { type: 'text_delta', index, text: JSON.stringify(value) },
        { type: 'block_stop', index },
        { ...ev, stopReason: 'end_turn' },
      );
    }
    return out;
  }
}
