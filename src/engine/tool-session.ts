// One request's view of a turn with client tools. It renames the client's tool calls back from the
// CLI's mcp__c__<name> to the client's own names, holds back calls tool_choice or
// parallel_tool_calls rule out (the model gets an error result for them instead), and says when a
// message ended with calls the client must run: then the request is answered with stop reason
// tool_use and the process is parked until the results come.
//
// The CLI starts running a tool as soon as its block is complete, and runs MCP calls one by one, so
// the pause is decided on the message's end (message_stop), when every call of the message is known.
import type { Options } from '@anthropic-ai/claude-agent-sdk';
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

export class ToolSession {
  /** Block indexes (of this request's events) that are hidden from the client. */
  private readonly hidden = new Set<number>();
  /** Calls handed to the client in the current message. */
  private pending: string[] = [];
  /** Every call handed to the client in this request. */
  readonly calls: string[] = [];

  /** Without a server (a turn without client tools) it only hides the CLI's internal tool calls. */
  constructor(readonly server?: ClientToolServer) {}

  /** Rewrites the events of one frame; returns them and whether the turn now waits for the client. */
  filter(frame: unknown, events: TurnEvent[]): { events: TurnEvent[]; pause: boolean } {
    const out: TurnEvent[] = [];
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
    return { events: out, pause: this.messageEnded(frame) && this.pending.length > 0 };
  }

  /** Why a call to `name` must not reach the client, if it must not. */
  private refusal(name: string): string | undefined {
    const { choice, parallel } = this.server!.policy;
    if (choice.type === 'tool' && name !== choice.name) return `Error: only the tool ${mcpToolName(choice.name)} may be called now (tool_choice).`;
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
