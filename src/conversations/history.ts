// Identifies a conversation by its content. Each message is reduced to a canonical form that every
// dialect produces alike (whitespace, text-part splits and thinking do not count; media count by
// a hash of their bytes), and the messages are chained: the hash after message i covers the owner
// (a hash of the gateway key), the turn shape and messages 0..i. A conversation point is that hash
// after an assistant answer: the request that extends it names it with its own history.
import crypto from 'node:crypto';
import type { ChatMessage, MediaSource, Part } from '../engine/types.js';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** JSON with sorted keys, so two equal tool inputs hash equal whatever their key order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

function mediaKey(s: MediaSource | { type: 'text'; data: string }): string {
  return sha(s.type === 'url' ? `url:${s.url}` : `${s.type}:${s.data}`);
}

function partKey(p: Part): unknown[] | undefined {
  switch (p.type) {
    case 'text':
      return undefined; // texts are joined per message (clients split and join them differently)
    case 'image':
    case 'document':
      return [p.type[0], mediaKey(p.source)];
    case 'tool_call':
      return ['c', p.id, p.name, stableJson(p.input)];
    case 'tool_result':
      return ['r', p.callId, !!p.isError, p.content.map((c) => (c.type === 'text' ? c.text.replace(/\s+/g, '') : partKey(c)))];
    case 'thinking':
      return undefined; // clients drop or keep reasoning as they like; it never decides the match
  }
}

/**
 * A reminder of today's date that a client adds to the user message it sends but does not keep in
 * the history it replays: Qwen Code's `--continue` sends its first prompt without the
 * `<system-reminder>The current date is: Monday, December 7, 2026. Note: This is the authoritative
 * current date ...</system-reminder>` it had carried. Only a reminder that says nothing but the date
 * (a short date sentence, optionally Qwen's note about it) is ignored: any other reminder content
 * (skills, files, todos) still counts. Two histories that differ only in such a reminder must also
 * agree on every other message, the assistant's answers and tool call ids included, so they are
 * one conversation replayed; the session they continue holds the turn as it was first sent.
 */
const DATE_REMINDER = /<system-reminder>\s*The current date is: [^.<\n]{1,60}\.(?:\s*Note: This is the authoritative current date[^<]{0,300})?\s*<\/system-reminder>/g;

/** The canonical form of one message. */
export function canonicalMessage(m: ChatMessage): string {
  const joined = m.content
    .filter((p): p is Extract<Part, { type: 'text' }> => p.type === 'text')
    .map((p) => p.text)
    .join('');
  const text = (m.role === 'user' ? joined.replace(DATE_REMINDER, '') : joined).replace(/\s+/g, '');
  const parts = m.content.map(partKey).filter((k) => k !== undefined);
  return stableJson([m.role, text, parts]);
}

/** The chain hash after `messages`, going on from `from` (a chain's start, or an earlier point). */
export function extendChain(from: string, messages: ChatMessage[]): string {
  let h = from;
  for (const m of messages) h = sha(`${h}\0${canonicalMessage(m)}`);
  return h;
}

/** Where the chains of one owner and conversation key (model, system prompt, tools) start. */
export const chainStart = (owner: string, conversationKey: string): string => sha(`root\0${sha(`${owner}\0${conversationKey}`)}`);

/**
 * Split a conversation: `history` is everything up to and including the last assistant message,
 * `current` the user turn after it (what is new). Consecutive messages of one role are merged, as
 * the Messages API merges them.
 */
export function splitTurn(messages: ChatMessage[]): { history: ChatMessage[]; current: ChatMessage[] } {
  const merged: ChatMessage[] = [];
  for (const m of messages) {
    const last = merged[merged.length - 1];
    if (last && last.role === m.role) merged[merged.length - 1] = { role: m.role, content: [...last.content, ...m.content] };
    else merged.push({ role: m.role, content: [...m.content] });
  }
  let i = merged.length;
  while (i > 0 && merged[i - 1].role === 'user') i--;
  return { history: merged.slice(0, i), current: merged.slice(i) };
}
