// Translates the CLI's output frames (SDKMessage) into TurnEvents. Pure and stateful per turn:
// push() one frame, get the events it yields and whether the turn is over. Upstream failures the CLI
// reports in-band (a synthetic assistant frame, then an error result) are thrown as GatewayErrors so
// they never reach a client as answer text.
import type { SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import { GatewayError } from '../errors.js';
import { emptyUsage, type BlockKind, type StopReason, type TurnEvent, type Usage } from './types.js';
import { mapUpstreamFailure } from './upstream-errors.js';

export interface TranslatorOptions {
  /** A CLI retry that would wait longer than this ends the turn with 429/503 instead. */
  maxRetryWaitMs: number;
  fallbackRetryAfterSec: number;
}

export interface PushResult {
  events: TurnEvent[];
  finished: boolean;
}

const STOP_REASONS = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'refusal', 'pause_turn']);

export class FrameTranslator {
  private usage: Usage = emptyUsage();
  private stopReason: StopReason = 'end_turn';
  private blockOffset = 0;
  private blocksInMessage = 0;
  private retryDelayMs: number | undefined;
  private contentStarted = false;
  /** Ids of the API messages that arrived as stream events. */
  private readonly streamedIds = new Set<string>();
  /** Text already sent per block index of the current message (for reconciling a non-streamed retry). */
  private sentText = new Map<number, string>();
  /** Set when the CLI abandoned a broken stream and will deliver the message whole (non-streaming fallback). */
  private abandoned: { sent: string } | undefined;
  finished = false;
  /** The turn ran to the CLI's own end (its result frame): the process is idle again. */
  endedAtResult = false;

  constructor(private readonly opts: TranslatorOptions) {}

  /** Usage counted from the stream so far (output tokens arrive with message_delta). */
  usageSoFar(): Usage {
    return { ...this.usage };
  }

  private retryAfterSec(): number {
    return this.retryDelayMs !== undefined ? Math.max(1, Math.ceil(this.retryDelayMs / 1000)) : this.opts.fallbackRetryAfterSec;
  }

  push(frame: SDKMessage): PushResult {
    const events: TurnEvent[] = [];
    const f = frame as any;
    switch (frame.type) {
      case 'system':
        if (f.subtype === 'api_retry') this.onRetry(f);
        break;
      case 'stream_event':
        if (f.parent_tool_use_id != null) break;
        // A stream that broke mid-answer ends with abandoned_blocks: the CLI fetches the message again
        // without streaming, and onUnstreamedMessage reconciles it with what the client already has.
        if (f.abandoned_blocks) this.abandoned = { sent: [...this.sentText.values()].join('') };
        this.onStreamEvent(f.event, events);
        break;
      case 'assistant':
        if (f.is_api_error_message || (f.message?.model === '<synthetic>' && f.error)) {
          const text = (f.message?.content ?? []).map((b: any) => b.text ?? '').join(' ');
          throw mapUpstreamFailure({ status: f.api_error_status, error: f.error, text }, this.retryAfterSec());
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
    // A retry after text was streamed would send the answer twice: end the turn instead.
    if (this.contentStarted) {
      throw new GatewayError('overloaded', 'The connection to the Anthropic API failed mid-answer; retry the request.', {
        retryAfterSec: this.retryAfterSec(),
        code: 'upstream_interrupted',
      });
    }
    if ((this.retryDelayMs ?? 0) > this.opts.maxRetryWaitMs) {
      throw mapUpstreamFailure({ status: f.error_status, error: f.error }, this.retryAfterSec());
    }
  }

  private onStreamEvent(ev: any, events: TurnEvent[]): void {
    switch (ev.type) {
      case 'message_start': {
        this.blockOffset += this.blocksInMessage;
        this.blocksInMessage = 0;
        this.sentText = new Map();
        if (ev.message?.id) this.streamedIds.add(ev.message.id);
        const u = ev.message?.usage ?? {};
        this.usage.inputTokens += u.input_tokens ?? 0;
        this.usage.cacheReadTokens += u.cache_read_input_tokens ?? 0;
        this.usage.cacheCreationTokens += u.cache_creation_input_tokens ?? 0;
        events.push({ type: 'usage', usage: { ...this.usage } });
        break;
      }
      case 'content_block_start': {
        const index = this.blockOffset + ev.index;
        this.blocksInMessage = Math.max(this.blocksInMessage, ev.index + 1);
        const cb = ev.content_block ?? {};
        let block: BlockKind;
        if (cb.type === 'tool_use') block = { type: 'tool_use', id: cb.id, name: cb.name };
        else if (cb.type === 'thinking' || cb.type === 'redacted_thinking') block = { type: 'thinking' };
        else block = { type: 'text' };
        events.push({ type: 'block_start', index, block });
        break;
      }
      case 'content_block_delta': {
        const index = this.blockOffset + ev.index;
        const d = ev.delta ?? {};
        this.contentStarted = true;
        if (d.type === 'text_delta') {
          this.sentText.set(index, (this.sentText.get(index) ?? '') + d.text);
          events.push({ type: 'text_delta', index, text: d.text });
        }
        else if (d.type === 'thinking_delta') events.push({ type: 'thinking_delta', index, text: d.thinking });
        else if (d.type === 'signature_delta') events.push({ type: 'signature_delta', index, signature: d.signature });
        else if (d.type === 'input_json_delta') events.push({ type: 'tool_input_delta', index, json: d.partial_json });
        break;
      }
      case 'content_block_stop':
        events.push({ type: 'block_stop', index: this.blockOffset + ev.index });
        break;
      case 'message_delta': {
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
   * events. Text the client already received from the abandoned stream is not sent twice; if the new
   * answer does not continue it, the turn fails rather than contradict what was sent.
   */
  private onUnstreamedMessage(message: any, events: TurnEvent[]): void {
    this.blockOffset += this.blocksInMessage;
    this.blocksInMessage = 0;
    let skip = this.abandoned?.sent ?? '';
    this.abandoned = undefined;
    const blocks: any[] = message.content ?? [];
    for (const [i, b] of blocks.entries()) {
      const index = this.blockOffset + i;
      this.blocksInMessage = i + 1;
      if (b.type === 'text') {
        let text: string = b.text ?? '';
        if (skip) {
          if (!text.startsWith(skip)) {
            throw new GatewayError('overloaded', 'The connection to the Anthropic API failed mid-answer; retry the request.', {
              retryAfterSec: this.retryAfterSec(),
              code: 'upstream_interrupted',
            });
          }
          text = text.slice(skip.length);
          skip = '';
        }
        events.push({ type: 'block_start', index, block: { type: 'text' } });
        if (text) events.push({ type: 'text_delta', index, text });
      } else if (b.type === 'thinking') {
        events.push({ type: 'block_start', index, block: { type: 'thinking' } });
        if (b.thinking) events.push({ type: 'thinking_delta', index, text: b.thinking });
        if (b.signature) events.push({ type: 'signature_delta', index, signature: b.signature });
      } else if (b.type === 'tool_use') {
        events.push({ type: 'block_start', index, block: { type: 'tool_use', id: b.id, name: b.name } });
        events.push({ type: 'tool_input_delta', index, json: JSON.stringify(b.input ?? {}) });
      } else continue;
      events.push({ type: 'block_stop', index });
    }
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
