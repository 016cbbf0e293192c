// Writes a Claude Code transcript for a history the gateway never served (a restart without its
// store, another replica, a client that edits its history), so the CLI resumes it and the API gets
// the real alternating turns. The entries are the CLI's own JSONL shape (user / assistant /
// attachment, chained by uuid/parentUuid). After the first user message come the attachments a
// live session starts with (environment, model, date); the CLI renders them as it does for its own
// sessions, so an imported conversation reaches the API with the same bytes as a live one.
import crypto from 'node:crypto';
import os from 'node:os';
import { mcpToolName } from '../engine/client-tools.js';
import { toBlocks, type AnthropicBlock } from '../engine/prompt.js';
import type { ChatMessage, Part } from '../engine/types.js';
import type { SessionStoreEntry } from './stores/store.js';

export interface TranscriptContext {
  sessionId: string;
  /** The CLI's working directory (it is part of the environment attachment). */
  cwd: string;
  cliVersion: string;
  /** The wire model id the answers are attributed to. */
  model: string;
  /** The model attachment a live session of this model started with, when one was seen. */
  modelAttachment?: Record<string, unknown>;
  /** Client tool names the CLI knows under its own prefix. */
  clientTools: boolean;
  /** Thinking blocks with these signatures are the gateway's own output and are kept. */
  ownSignatures?: Set<string>;
}

export interface Transcript {
  entries: SessionStoreEntry[];
  /** The uuid of the last entry: where the resumed session goes on. */
  leaf: string;
}

/** Why a history cannot be written as real turns (the caller falls back to the flattened record). */
export class NotExpressible extends Error {}

function localDate(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function userContent(parts: Part[]): AnthropicBlock[] {
  const out: AnthropicBlock[] = [];
  for (const p of parts) {
    if (p.type === 'tool_result') {
      const content = toBlocks(p.content);
      out.push({ type: 'tool_result', tool_use_id: p.callId, content: content.length ? content : [{ type: 'text', text: '' }], ...(p.isError ? { is_error: true } : {}) });
    } else out.push(...toBlocks([p]));
  }
  return out;
}

function assistantContent(parts: Part[], ctx: TranscriptContext): AnthropicBlock[] {
  const out: AnthropicBlock[] = [];
  for (const p of parts) {
    if (p.type === 'text' && p.text) out.push({ type: 'text', text: p.text });
    else if (p.type === 'tool_call') out.push({ type: 'tool_use', id: p.id, name: ctx.clientTools ? mcpToolName(p.name) : p.name, input: p.input ?? {} });
    // Only the gateway's own signed thinking can go back to the API; any other is dropped.
    else if (p.type === 'thinking' && p.signature && ctx.ownSignatures?.has(p.signature)) out.push({ type: 'thinking', thinking: p.text, signature: p.signature });
  }
  return out;
}

/** The transcript of `history` (alternating turns, first a user one), ending after its last message. */
export function writeTranscript(history: ChatMessage[], ctx: TranscriptContext): Transcript {
  if (!history.length || history[0].role !== 'user') throw new NotExpressible('the history does not start with a user message');
  const entries: SessionStoreEntry[] = [];
  let parent: string | null = null;
  const now = new Date();
  const base = { isSidechain: false, userType: 'external', entrypoint: 'sdk-ts', cwd: ctx.cwd, sessionId: ctx.sessionId, version: ctx.cliVersion };
  const add = (e: Record<string, unknown>) => {
    const uuid = crypto.randomUUID();
    entries.push({ parentUuid: parent, ...base, ...e, uuid, timestamp: now.toISOString() } as unknown as SessionStoreEntry);
    parent = uuid;
  };
  history.forEach((m, i) => {
    if (m.role === 'user') {
      const content = userContent(m.content);
      if (!content.length) content.push({ type: 'text', text: '(empty message)' });
      add({ type: 'user', message: { role: 'user', content } });
      if (i === 0) {
        add({
          type: 'attachment',
          attachment: {
            type: 'environment',
            snapshot: { workingDirectory: ctx.cwd, isWorktree: false, isGitRepo: false, additionalWorkingDirectories: [], platform: process.platform, shell: 'bash', osVersion: `${os.type()} ${os.release()}` },
          },
        });
        if (ctx.modelAttachment) add({ type: 'attachment', attachment: ctx.modelAttachment });
        add({ type: 'attachment', attachment: { type: 'date', date: localDate(now) } });
      }
    } else {
      const content = assistantContent(m.content, ctx);
      if (!content.length) content.push({ type: 'text', text: '(no content)' });
      const id = `msg_imported_${crypto.randomUUID().replace(/-/g, '')}`;
      add({
        type: 'assistant',
        message: { id, type: 'message', role: 'assistant', model: ctx.model, content, stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn', stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
      });
    }
  });
  return { entries, leaf: parent! };
}
