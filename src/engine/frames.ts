// Translates the CLI's output frames (SDKMessage) into TurnEvents. Pure and stateful per turn:
// push() one frame, get the events it yields and whether the turn is over. Upstream failures the CLI
// reports in-band (a synthetic assistant frame, then an error result) are thrown as GatewayErrors so
// they never reach a client as answer text.
//
// A stream cut mid-answer. The CLI closes the open block itself (a content_block_stop the API never
// sent), marks the message_stop `abandoned_blocks: {from_block_index}` and gets the answer again:
//   - nothing complete yet (from_block_index 0): it streams the request again, announced by an
//     api_retry frame (while it has retries left), else fetches it without streaming (an assistant
//     frame with a new message id and no stream events);
//   - earlier blocks complete (a thinking block, say): it asks the model to resume (a synthetic user
//     frame, then a new streamed message, which in practice starts the answer over).
// Either way the replacement message is a new answer: the block the client has part of stays open
// (its stop is held back until the next stream event shows the stream went on), the replacement's
// matching block must start with what the client has, and only the rest is sent, into the same block.
// A replacement that does not continue what was sent fails the turn rather than contradict it.
import type { SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import { GatewayError } from '../errors.js';
import { emptyUsage, type BlockKind, type StopReason, type TurnEvent, type Usage } from './types.js';
import { mapUpstreamFailure } from './upstream-errors.js';

export interface TranslatorOptions {
  /** A CLI retry that would wait longer than this ends the turn with 429/503 instead. */
  maxRetryWaitMs: number;
  fallbackRetryAfterSec: number;
  /**
   * The client gets the answer whole (not streamed): each API message's events are held until the
   * message ends, so a cut message is simply dropped and the re-fetched answer stands, whatever it
   * says. (A streaming client has seen part of the cut message: the replacement must continue it.)
   */
  wholeMessages?: boolean;
}

export interface PushResult {
  events: TurnEvent[];
  finished: boolean;
}

const STOP_REASONS = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'refusal', 'pause_turn']);

type SlotKind = 'text' | 'thinking' | 'tool_use';

/** One content block of the API message being read, and where it goes for the client. */
interface Slot {
  kind: SlotKind;
  /** The client's block index. */
  index: number;
  /** Content the client has for this block (text or thinking; tool input JSON). */
  sent: string;
  /** Length of the content this message delivered for the block so far. */
  seen: number;
  /** A block the client does not see (thinking of a replacement answer, before the block it continues). */
  drop?: boolean;
  /** The client has had this block's stop. */
  stopped?: boolean;
}

const kindOf = (type: string | undefined): SlotKind =>
  type === 'tool_use' ? 'tool_use' : type === 'thinking' || type === 'redacted_thinking' ? 'thinking' : 'text';

export class FrameTranslator {
  private usage: Usage = emptyUsage();
  private stopReason: StopReason = 'end_turn';
  /** The client's next block index. */
  private nextIndex = 0;
  /** Blocks of the current API message, by the message's own block index. */
  private slots = new Map<number, Slot>();
  /** A text or thinking block whose stop is held back for one stream event (it may be continued). */
  private pendingStop: Slot | undefined;
  /** After a cut: the client's open block the replacement answer must continue. */
  private carry: Slot | undefined;
  /** A cut stream is being recovered until a replacement message completes. */
  private recovering = false;
  private retryDelayMs: number | undefined;
  private contentStarted = false;
  /** Ids of the API messages that arrived as stream events. */
  private readonly streamedIds = new Set<string>();
  finished = false;
  /** The turn ended at the CLI's own end (its result frame): the process is idle again. */
  endedAtResult = false;

  constructor(private readonly opts: TranslatorOptions) {}

  /** Usage counted from the stream so far (output tokens arrive with message_delta). */
  usageSoFar(): Usage {
    return { ...this.usage };
  }

  private retryAfterSec(): number {
    return this.retryDelayMs !== undefined ? Math.max(1, Math.ceil(this.retryDelayMs / 1000)) : this.opts.fallbackRetryAfterSec;
  }

  private interrupted(): GatewayError {
    return new GatewayError('overloaded', 'The connection to the Anthropic API failed mid-answer; retry the request.', {
      retryAfterSec: this.retryAfterSec(),
      code: 'upstream_interrupted',
    });
  }

  /** Events of the current API message held back (wholeMessages), and the client index it began at. */
  private held: TurnEvent[] = [];
  private heldFrom = 0;

  push(frame: SDKMessage): PushResult {
    if (!this.opts.wholeMessages) return this.translate(frame);
    const f = frame as any;
    const main = frame.type === 'stream_event' && f.parent_tool_use_id == null;
    const type = main ? f.event?.type : undefined;
    if (main && type === 'message_stop' && f.abandoned_blocks) {
      // Cut: nothing of this message reached the client, so it is forgotten; the CLI gets it again.
      this.held = [];
      this.nextIndex = this.heldFrom;
      this.slots = new Map();
      this.pendingStop = undefined;
      this.carry = undefined;
      this.recovering = true;
      return { events: [], finished: this.finished };
    }
    if (type === 'message_start') this.heldFrom = this.nextIndex;
    const r = this.translate(frame);
    if (main && type !== 'message_stop' && !r.finished) {
      this.held.push(...r.events);
      return { events: [], finished: r.finished };
    }
    const events = [...this.held, ...r.events];
    this.held = [];
    return { events, finished: r.finished };
  }

  private translate(frame: SDKMessage): PushResult {
    const events: TurnEvent[] = [];
    const f = frame as any;
    const mainStream = frame.type === 'stream_event' && f.parent_tool_use_id == null;
    // A held-back stop goes out with the next frame, unless that frame says the stream was cut.
    if (this.pendingStop && !(mainStream && f.event?.type === 'message_stop' && f.abandoned_blocks)) this.flushStop(events);
    switch (frame.type) {
      case 'system':
        if (f.subtype === 'api_retry') this.onRetry(f);
        break;
      case 'stream_event':
        if (!mainStream) break;
        if (f.abandoned_blocks) this.onAbandoned(f.abandoned_blocks);
        this.onStreamEvent(f.event, events);
        break;
      case 'assistant':
        if (f.is_api_error_message || (f.message?.model === '<synthetic>' && f.error)) {
          const text = (f.message?.content ?? []).map((b: any) => b.text ?? '').join(' ');
          throw mapUpstreamFailure(
            { status: f.api_error_status, error: f.error, apiErrorType: f.api_error_type, apiError: f.api_error, text, resetsAt: f.api_error_params?.rate_limit_info?.resetsAt },
            this.retryAfterSec(),
          );
        }
        if (f.parent_tool_use_id == null && f.message?.id && !this.streamedIds.has(f.message.id)) this.onUnstreamedMessage(f.message, events);
        break;
      case 'result':
        return { events: this.onResult(f, events), finished: true };
    }
    return { events, finished: this.finished };
  }

  private onRetry(f: any): void {
    this.retryDelayMs = typeof f.retry_delay_ms === 'number' ? f.retry_delay_ms : this.retryDelayMs;
    // A retry after text was streamed would send the answer twice, unless it re-fetches a cut stream
    // (the replacement is reconciled with what the client has): end the turn instead.
    if (this.contentStarted && !this.recovering) throw this.interrupted();
    if ((this.retryDelayMs ?? 0) > this.opts.maxRetryWaitMs) {
      if (this.contentStarted) throw this.interrupted();
      // A retry is a temporary failure by nature, whatever the CLI could tell of it.
      const status = f.error_status ?? undefined;
      throw mapUpstreamFailure({ status, error: f.error, apiError: status === undefined ? 'connection_failed' : undefined }, this.retryAfterSec());
    }
  }

  /** The stream broke: keep the client's open block for the replacement answer to continue. */
  private onAbandoned(marker: { from_block_index?: number }): void {
    const from = marker.from_block_index ?? 0;
    this.recovering = true;
    const open = this.pendingStop;
    this.pendingStop = undefined;
    for (const [local, slot] of this.slots) {
      if (local < from || slot.drop || slot === open) continue;
      // Part of a tool call reached the client: it cannot be taken back or continued.
      if (slot.kind === 'tool_use') throw this.interrupted();
      if (!slot.stopped && !this.carry) this.carry = slot;
    }
    if (open && !this.carry) this.carry = open;
    this.slots = new Map();
  }

  private flushStop(events: TurnEvent[]): void {
    const s = this.pendingStop!;
    this.pendingStop = undefined;
    s.stopped = true;
    events.push({ type: 'block_stop', index: s.index });
  }

  /** A replacement message ended: an open block it never continued is closed, or the turn fails. */
  private endCarry(events: TurnEvent[]): void {
    const c = this.carry;
    if (!c) return;
    this.carry = undefined;
    if (c.sent) throw this.interrupted();
    c.stopped = true;
    events.push({ type: 'block_stop', index: c.index });
  }

  private startBlock(local: number, cb: any, events: TurnEvent[]): void {
    const kind = kindOf(cb?.type);
    const c = this.carry;
    if (c) {
      if (kind === c.kind) {
        this.carry = undefined;
        c.seen = 0;
        this.slots.set(local, c);
        return;
      }
      // A replacement answer may think again before the text it repeats: the client does not see that.
      if (c.kind === 'text' && kind === 'thinking') {
        this.slots.set(local, { kind, index: -1, sent: '', seen: 0, drop: true });
        return;
      }
      this.endCarry(events);
    }
    const index = this.nextIndex++;
    this.slots.set(local, { kind, index, sent: '', seen: 0 });
    const block: BlockKind = kind === 'tool_use' ? { type: 'tool_use', id: cb.id, name: cb.name } : { type: kind };
    events.push({ type: 'block_start', index, block });
  }

  /** Content for a block: what the client already has must match; only the rest is sent. */
  private content(slot: Slot, piece: string): string {
    if (slot.drop) return '';
    let rest = piece;
    if (slot.seen < slot.sent.length) {
      const overlap = Math.min(rest.length, slot.sent.length - slot.seen);
      if (rest.slice(0, overlap) !== slot.sent.slice(slot.seen, slot.seen + overlap)) throw this.interrupted();
      rest = rest.slice(overlap);
    }
    slot.seen += piece.length;
    slot.sent += rest;
    return rest;
  }

  private delta(slot: Slot | undefined, d: any, events: TurnEvent[]): void {
    if (!slot || slot.drop) return;
    const index = slot.index;
    let piece = '';
    if (d.type === 'text_delta') {
      piece = this.content(slot, d.text ?? '');
      if (piece) events.push({ type: 'text_delta', index, text: piece });
    } else if (d.type === 'thinking_delta') {
      piece = this.content(slot, d.thinking ?? '');
      if (piece) events.push({ type: 'thinking_delta', index, text: piece });
    } else if (d.type === 'signature_delta') {
      piece = d.signature ?? '';
      events.push({ type: 'signature_delta', index, signature: piece });
    } else if (d.type === 'input_json_delta') {
      piece = this.content(slot, d.partial_json ?? '');
      if (piece) events.push({ type: 'tool_input_delta', index, json: piece });
    }
    if (piece) this.contentStarted = true;
  }

  private stopBlock(slot: Slot | undefined, events: TurnEvent[], hold: boolean): void {
    if (!slot || slot.drop) return;
    // The replacement ended this block before it reached what the client already has.
    if (slot.seen < slot.sent.length) throw this.interrupted();
    if (hold && slot.kind !== 'tool_use') {
      this.pendingStop = slot;
      return;
    }
    slot.stopped = true;
    events.push({ type: 'block_stop', index: slot.index });
  }

  private onStreamEvent(ev: any, events: TurnEvent[]): void {
    switch (ev.type) {
      case 'message_start': {
        this.slots = new Map();
        if (ev.message?.id) this.streamedIds.add(ev.message.id);
        const u = ev.message?.usage ?? {};
        this.usage.inputTokens += u.input_tokens ?? 0;
        this.usage.cacheReadTokens += u.cache_read_input_tokens ?? 0;
        this.usage.cacheCreationTokens += u.cache_creation_input_tokens ?? 0;
        events.push({ type: 'usage', usage: { ...this.usage } });
        break;
      }
      case 'content_block_start':
        this.startBlock(ev.index, ev.content_block, events);
        break;
      case 'content_block_delta':
        this.delta(this.slots.get(ev.index), ev.delta ?? {}, events);
        break;
      case 'content_block_stop':
        this.stopBlock(this.slots.get(ev.index), events, true);
        break;
      case 'message_delta': {
        // The message ran to its end: a cut before it has been recovered.
        this.endCarry(events);
        this.recovering = false;
        const reason = ev.delta?.stop_reason;
        if (STOP_REASONS.has(reason)) this.stopReason = reason;
        this.usage.outputTokens += ev.usage?.output_tokens ?? 0;
        // The CLI answers a max_tokens stop by asking the model to go on; the client asked for a limit.
        if (reason === 'max_tokens') {
          this.finished = true;
          events.push({ type: 'done', stopReason: 'max_tokens', stopSequence: null, usage: this.usage, costUsd: 0 });
        }
        break;
      }
    }
  }

  /**
   * A message the CLI fetched without streaming (its fallback after a broken stream): render it as
   * events, reconciled with what the client already has like a streamed replacement.
   */
  private onUnstreamedMessage(message: any, events: TurnEvent[]): void {
    this.slots = new Map();
    const blocks: any[] = message.content ?? [];
    for (const [i, b] of blocks.entries()) {
      if (b.type !== 'text' && b.type !== 'thinking' && b.type !== 'redacted_thinking' && b.type !== 'tool_use') continue;
      this.startBlock(i, b, events);
      const slot = this.slots.get(i);
      if (b.type === 'text') this.delta(slot, { type: 'text_delta', text: b.text ?? '' }, events);
      else if (b.type === 'thinking') {
        if (b.thinking) this.delta(slot, { type: 'thinking_delta', thinking: b.thinking }, events);
        if (b.signature) this.delta(slot, { type: 'signature_delta', signature: b.signature }, events);
      } else if (b.type === 'tool_use') this.delta(slot, { type: 'input_json_delta', partial_json: JSON.stringify(b.input ?? {}) }, events);
      this.stopBlock(slot, events, false);
    }
    this.endCarry(events);
    this.recovering = false;
    if (STOP_REASONS.has(message.stop_reason)) this.stopReason = message.stop_reason;
    const u = message.usage ?? {};
    this.usage.inputTokens += u.input_tokens ?? 0;
    this.usage.outputTokens += u.output_tokens ?? 0;
    this.usage.cacheReadTokens += u.cache_read_input_tokens ?? 0;
    this.usage.cacheCreationTokens += u.cache_creation_input_tokens ?? 0;
  }

  private onResult(f: any, events: TurnEvent[]): TurnEvent[] {
    this.finished = true;
    this.endedAtResult = true;
    if (f.is_error && f.subtype !== 'success') {
      throw new GatewayError('cli_failure', 'Claude Code ended the turn without an answer.', { code: 'cli_error' });
    }
    if (f.is_error) {
      // An error result without the synthetic assistant frame before it (should not happen).
      throw mapUpstreamFailure({ text: String(f.result ?? '') }, this.retryAfterSec());
    }
    // A cut answer the CLI gave up on ends as an error frame above; an open block left here is closed.
    if (this.carry) this.endCarry(events);
    const u = f.usage ?? {};
    const usage: Usage = {
      inputTokens: u.input_tokens ?? this.usage.inputTokens,
      outputTokens: u.output_tokens ?? this.usage.outputTokens,
      cacheReadTokens: u.cache_read_input_tokens ?? this.usage.cacheReadTokens,
      cacheCreationTokens: u.cache_creation_input_tokens ?? this.usage.cacheCreationTokens,
    };
    events.push({ type: 'done', stopReason: this.stopReason, stopSequence: null, usage, costUsd: f.total_cost_usd ?? 0 });
    return events;
  }
}
