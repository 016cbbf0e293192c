// One request's view of a turn with client tools. It renames the client's tool calls back from the
// CLI's mcp__c__<name> to the client's own names, holds back calls tool_choice or
// parallel_tool_calls rule out (the model gets an error result for them instead), and says when a
// message ended with calls the client must run: then the request is answered with stop reason
// tool_use and the process is parked until the results come.
//
// The CLI starts running a tool as soon as its block is complete, and runs MCP calls one by one, so
// the pause is decided on the message's end (message_stop), when every call of the message is known.
//
// A forced tool_choice (required, a named tool) has one clean outcome: the response holds the attempt
// that called the tool, and nothing of the attempts the Stop hook sent back; or, when the model
// still answers in text after the nudges, the request fails with 502 `tool_choice_not_followed`.
// So until the first accepted call, the current attempt's events are held back (a streaming client
// sees nothing of an attempt that may yet be thrown away) and dropped when the model is sent back.
import type { Options } from '@anthropic-ai/claude-agent-sdk';
import { GatewayError } from '../errors.js';
import { clientToolName, mcpToolName, toMcpResult, TOOL_SERVER, type ClientToolServer } from './client-tools.js';
import type { TurnEvent } from './types.js';

/** SDK options for a process that serves client tools through `server` (and nothing else). */
export function clientToolOptions(server: ClientToolServer, callTimeoutMs: number): Partial<Options> {
  return {
    // Claude Code's built-in tools stay off: the model can call only what the client declared.
    tools: [],
    allowedTools: server.tools.map((t) => mcpToolName(t.name)),
    mcpServers: { [TOOL_SERVER]: { type: 'sdk', name: TOOL_SERVER, instance: server as never, timeout: callTimeoutMs } },
    hooks: { Stop: [{ hooks: [server.stopHook] }] },
  };
}

/** Where in a frame's events a call was refused. */
const REFUSED = Symbol('refused');

export class ToolSession {
  /** Block indexes (of this request's events) that are hidden from the client. */
  private readonly hidden = new Set<number>();
  /** Calls handed to the client in the current message. */
  private pending: string[] = [];
  /** Every call handed to the client in this request. */
  readonly calls: string[] = [];

  /** Forced tool_choice, before the first accepted call: the current attempt's events, held back. */
  private held: TurnEvent[] | undefined;
  /** The server's nudge count when the held attempt began. */
  private nudgesSeen = 0;

  /** Without a server (a turn without client tools) it only hides the CLI's internal tool calls. */
  constructor(readonly server?: ClientToolServer) {
    const c = server?.policy.choice;
    if (c && (c.type === 'required' || c.type === 'tool')) {
      this.held = [];
      this.nudgesSeen = server!.nudgesSpent;
    }
  }

  /** Rewrites the events of one frame; returns them and whether the turn now waits for the client. */
  filter(frame: unknown, events: TurnEvent[]): { events: TurnEvent[]; pause: boolean } {
    const passed = this.pass(events);
    if (!this.held) return { events: passed.filter((e): e is TurnEvent => e !== REFUSED), pause: this.messageEnded(frame) && this.pending.length > 0 };
    // The Stop hook sent the model back: what it said in the attempt is not part of the answer.
    if (this.server!.nudgesSpent !== this.nudgesSeen) {
      this.nudgesSeen = this.server!.nudgesSpent;
      this.dropHeld();
    }
    const out: TurnEvent[] = [];
    for (const ev of passed) {
      if (ev === REFUSED) {
        // The attempt's text (about a call that was not made) goes with the refused call.
        if (this.held) this.dropHeld();
      } else if (this.held && ev.type === 'block_start' && ev.block.type === 'tool_use') {
        // The first accepted call: its attempt is the answer.
        out.push(...this.held, ev);
        this.held = undefined;
      } else if (this.held && ev.type === 'done') {
        if (ev.stopReason === 'end_turn' || ev.stopReason === 'stop_sequence') {
          throw new GatewayError('upstream_error', 'The model answered without calling a tool, although tool_choice requires a tool call.', {
            code: 'tool_choice_not_followed',
          });
        }
        // Cut short (max_tokens, a refusal): that is the outcome, as without tool_choice.
        out.push(...this.held, ev);
        this.held = undefined;
      } else if (this.held) {
        // Usage too: a stream opens with the turn's first event, and must not open on an attempt.
        this.held.push(ev);
      } else out.push(ev);
    }
    return { events: out, pause: this.messageEnded(frame) && this.pending.length > 0 };
  }

  /** Forgets the held attempt; its blocks stay hidden. */
  private dropHeld(): void {
    if (!this.held) return;
    for (const ev of this.held) if (ev.type !== 'usage' && ev.type !== 'done') this.hidden.add(ev.index);
    this.held = [];
  }

  /** Renames client calls, hides the CLI's own and refused ones (marking where a refusal was). */
  private pass(events: TurnEvent[]): (TurnEvent | typeof REFUSED)[] {
    const out: (TurnEvent | typeof REFUSED)[] = [];
    for (const ev of events) {
      if (ev.type === 'done') {
        out.push(ev);
        continue;
      }
      if (ev.type === 'block_start' && ev.block.type === 'tool_use') {
        const name = this.server && clientToolName(ev.block.name);
        if (name === undefined || !this.server) {
          // A tool the CLI runs itself (an operator-enabled built-in): not the client's business.
          this.hidden.add(ev.index);
          continue;
        }
        const refusal = this.refusal(name);
        if (refusal) {
          // Never shown to the client; the CLI hands the model this error as the call's result.
          this.hidden.add(ev.index);
          out.push(REFUSED);
          this.server.answer(ev.block.id, toMcpResult([{ type: 'text', text: refusal }], true));
          continue;
        }
        this.pending.push(ev.block.id);
        this.calls.push(ev.block.id);
        out.push({ ...ev, block: { ...ev.block, name } });
        continue;
      }
      if (ev.type !== 'usage' && this.hidden.has(ev.index)) continue;
      out.push(ev);
    }
    return out;
  }

  /** Why a call to `name` must not reach the client, if it must not. */
  private refusal(name: string): string | undefined {
    const { choice, parallel } = this.server!.policy;
    if (choice.type === 'tool' && name !== choice.name) return `Error: only the ${choice.name} tool may be called now; this call was not run.`;
    if (!parallel && this.pending.length > 0) return 'Error: call one tool at a time (parallel tool calls are off); this call was not run.';
    return undefined;
  }

  private messageEnded(frame: unknown): boolean {
    const f = frame as { type?: string; parent_tool_use_id?: unknown; event?: { type?: string }; message?: { stop_reason?: unknown } };
    if (f.parent_tool_use_id != null) return false;
    // Streamed messages end with message_stop; a message the CLI fetched unstreamed (its fallback
    // after a broken stream) arrives whole, carrying its stop reason.
    if (f.type === 'stream_event') return f.event?.type === 'message_stop';
    return f.type === 'assistant' && f.message?.stop_reason === 'tool_use';
  }

  /** The pause was handed to the client; the next message starts a fresh set of calls. */
  paused(): string[] {
    const ids = this.pending;
    this.pending = [];
    return ids;
  }
}
