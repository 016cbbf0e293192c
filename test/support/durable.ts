// Helpers for durable-conversation tests: one scripted conversation driven through several
// gateways (replicas, restarts) against one shared upstream, checking each turn's answer, the path
// that served it, and exactly what reached the API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import type { ConversationPath } from '../../src/conversations/conversations.js';
import { answerText, modelRequests, turnsOf, turnText, withoutCacheControl } from './conversation.js';
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js';
import { TEST_KEY, type Harness } from './harness.js';

/** The minimum prefix the scripted upstream caches (prompt-cache.ts default, as the API's for Sonnet). */
export const MIN_CACHEABLE = 1024;

export interface Replica {
  name: string;
  h: Harness;
  chat: OpenAI;
}

export function replica(name: string, h: Harness): Replica {
  return { name, h, chat: new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 }) };
}

export const pathsOf = (h: Harness): Record<ConversationPath, number> => ({ ...h.gw.engine.stats().conversation_paths });

/** The paths counted between two snapshots, zeros left out. */
export function pathDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v));
}

export interface TurnRecord {
  n: number;
  replica: string;
  path: ConversationPath;
  request: RecordedRequest;
  /** The cached tokens the gateway reported to the client. */
  cachedTokens: number | undefined;
}

/** The Claude Code session a request came from (the CLI names it in the request's metadata). */
export const sessionOf = (r: RecordedRequest): string => JSON.parse(r.body.metadata.user_id).session_id;

export const totalInput = (r: RecordedRequest): number => r.usage!.input_tokens + r.usage!.cache_read_input_tokens + r.usage!.cache_creation_input_tokens;

/** Everything of a request body the prompt cache keys on besides the messages (the per-call billing header left out). */
export function cacheKeyedBody(r: RecordedRequest): unknown {
  const system = Array.isArray(r.body.system)
    ? r.body.system.filter((b: any) => !(b?.type === 'text' && String(b.text).startsWith('x-anthropic-billing-header')))
    : r.body.system;
  return withoutCacheControl({ model: r.body.model, system, tools: r.body.tools });
}

/**
 * A request's messages as the prompt cache sees them: without cache_control markers, and a string
 * content as the one text block it stands for. (The CLI itself sends the message that carries the
 * cache marker as blocks and the same message as a string once it is no longer last; the API
 * caches the two alike, and so does the scripted upstream.)
 */
export function cacheView(messages: unknown): unknown {
  const plain = withoutCacheControl(messages) as { role: string; content: unknown }[];
  return plain.map((m) => (typeof m.content === 'string' ? { ...m, content: [{ type: 'text', text: m.content }] } : m));
}

/** The conversation's real turns up to user turn n, as turnsOf reports them. */
export function expectedTurns(n: number, tag: string): { role: string; text: string }[] {
  const out: { role: string; text: string }[] = [];
  for (let k = 1; k <= n; k++) {
    out.push({ role: 'user', text: turnText(k, tag) });
    if (k < n) out.push({ role: 'assistant', text: answerText(k, tag) });
  }
  return out;
}

/** One conversation of scripted turns (turnText/answerText under `tag`), each sent to the replica given. */
export class ScriptedConversation {
  readonly messages: OpenAI.ChatCompletionMessageParam[] = [];
  readonly turns: TurnRecord[] = [];

  constructor(
    private readonly upstream: FakeUpstream,
    readonly tag: string,
  ) {}

  /** Sends the next turn to `r`; checks the answer, that one request reached the API, and that it held exactly the real turns. */
  async turn(r: Replica): Promise<TurnRecord> {
    const n = this.turns.length + 1;
    this.messages.push({ role: 'user', content: turnText(n, this.tag) });
    const sentBefore = modelRequests(this.upstream).length;
    const pathsBefore = pathsOf(r.h);
    const res = await r.chat.chat.completions.create({ model: 'sonnet', messages: this.messages });
    const where = `turn ${n} (${this.tag}) on ${r.name}`;
    assert.equal(res.choices[0].message.content, answerText(n, this.tag), `${where}: the answer`);
    const sent = modelRequests(this.upstream).slice(sentBefore);
    assert.equal(sent.length, 1, `${where}: one request reached the API`);
    const counted = pathDelta(pathsBefore, pathsOf(r.h));
    assert.equal(Object.values(counted).reduce((a, b) => a + b, 0), 1, `${where}: one path counted: ${JSON.stringify(counted)}`);
    const path = Object.keys(counted)[0] as ConversationPath;
    assert.deepEqual(turnsOf(sent[0]), expectedTurns(n, this.tag), `${where} (${path}): the request carries exactly the real turns`);
    this.messages.push({ role: 'assistant', content: res.choices[0].message.content });
    const rec: TurnRecord = { n, replica: r.name, path, request: sent[0], cachedTokens: res.usage?.prompt_tokens_details?.cached_tokens };
    this.turns.push(rec);
    return rec;
  }

  /**
   * Turn n's request is turn n-1's, byte for byte (as cacheView sees them), with the answer
   * the upstream gave and the new user turn appended; the rest of the body the cache keys on is equal.
   */
  assertExtendsPrevious(n: number): void {
    const prev = this.turns[n - 2].request;
    const next = this.turns[n - 1].request;
    const where = `turn ${n} (${this.turns[n - 1].path} on ${this.turns[n - 1].replica}) after turn ${n - 1} (${this.turns[n - 2].path} on ${this.turns[n - 2].replica})`;
    assert.deepEqual(
      cacheView(next.body.messages),
      [
        ...(cacheView(prev.body.messages) as unknown[]),
        { role: 'assistant', content: [{ type: 'text', text: answerText(n - 1, this.tag) }] },
        { role: 'user', content: [{ type: 'text', text: turnText(n, this.tag) }] },
      ],
      `${where}: messages extend the previous request byte for byte`,
    );
    // Past the first turn not even the form changes: the previous request is a prefix of this one as sent.
    if (n >= 3) {
      assert.deepEqual(
        withoutCacheControl(next.body.messages.slice(0, prev.body.messages.length)),
        withoutCacheControl(prev.body.messages),
        `${where}: the previous request's messages, exactly as sent`,
      );
    }
    assert.deepEqual(cacheKeyedBody(next), cacheKeyedBody(prev), `${where}: model, system and tools unchanged`);
  }

  /** When turn n-1's prompt was long enough to be cached, turn n reads all of it from the cache. */
  assertCacheKept(n: number): void {
    const prev = this.turns[n - 2].request;
    const next = this.turns[n - 1];
    const prevTotal = totalInput(prev);
    if (prevTotal < MIN_CACHEABLE) return;
    assert.ok(
      next.request.usage!.cache_read_input_tokens >= prevTotal,
      `turn ${n} (${next.path} on ${next.replica}) read ${next.request.usage!.cache_read_input_tokens} cached tokens; turn ${n - 1} wrote a ${prevTotal}-token prefix`,
    );
    assert.equal(next.cachedTokens, next.request.usage!.cache_read_input_tokens, `turn ${n}: cached tokens reported to the client`);
  }
}

/** The files directly in `dir` (none when it does not exist). */
export function filesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
  } catch {
    return [];
  }
}
