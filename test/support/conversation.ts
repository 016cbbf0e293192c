// Helpers for conversation tests: turns of about 300 tokens, the share of input read from the
// prompt cache, and Claude Code's own session (one CLI process, the same script) as the yardstick.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { query } from '@anthropic-ai/claude-agent-sdk';
import { bundledClaudePath } from '../../src/engine/claude-binary.js';
import { NEUTRAL_SYSTEM_PROMPT } from '../../src/engine/engine.js';
import { PushQueue } from '../../src/engine/push-queue.js';
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js';

const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

/** The user text of turn i (~150 tokens, and an answer of ~150 tokens). */
export function turnText(i: number, tag = 'c'): string {
  return `turn ${i} ${words(60, `${tag}q${i}w`)} [[reply:answer ${i} ${words(60, `${tag}a${i}w`)}]]`;
}
export const answerText = (i: number, tag = 'c') => `answer ${i} ${words(60, `${tag}a${i}w`)}`;

export const modelRequests = (u: FakeUpstream): RecordedRequest[] => u.requests.filter((r) => r.path === '/v1/messages');

/** Input tokens read from the cache over these requests, as a share of all their input tokens. */
export function cacheReuse(requests: RecordedRequest[]): number {
  let read = 0;
  let all = 0;
  for (const r of requests) {
    const u = r.usage!;
    read += u.cache_read_input_tokens;
    all += u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
  }
  return all ? read / all : 0;
}

/** The roles and texts of a request's messages, without the CLI's own system messages. */
export function turnsOf(r: RecordedRequest): { role: string; text: string }[] {
  return (r.body.messages as any[])
    .filter((m) => m.role !== 'system')
    .map((m) => ({
      role: m.role,
      text: (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content)
        .map((b: any) => (b.type === 'text' ? b.text : `[${b.type}]`))
        .join(''),
    }));
}

/** A request body without cache_control markers (they move turn to turn; the bytes around them must not). */
export function withoutCacheControl(messages: unknown): unknown {
  return JSON.parse(JSON.stringify(messages, (k, v) => (k === 'cache_control' ? undefined : v)));
}

/** Claude Code's own session: one CLI process takes every turn, against `upstream`. */
export async function claudeCodeSession(upstream: FakeUpstream, turns: string[]): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-yardstick-'));
  const cwd = path.join(root, 'cwd');
  fs.mkdirSync(cwd);
  const input = new PushQueue<any>();
  const q = query({
    prompt: input,
    options: {
      cwd,
      pathToClaudeCodeExecutable: bundledClaudePath()!,
      env: { PATH: process.env.PATH!, HOME: root, ANTHROPIC_BASE_URL: upstream.url, ANTHROPIC_API_KEY: 'sk-ant-yardstick', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', CLAUDE_CODE_MAX_RETRIES: '0' },
      model: 'sonnet',
      systemPrompt: NEUTRAL_SYSTEM_PROMPT,
      tools: [],
      settingSources: [],
      strictMcpConfig: true,
      permissionMode: 'dontAsk',
      persistSession: false,
    },
  });
  const it = q[Symbol.asyncIterator]();
  try {
    for (const t of turns) {
      input.push({ type: 'user', message: { role: 'user', content: [{ type: 'text', text: t }] }, parent_tool_use_id: null });
      for (;;) {
        const n = await it.next();
        if (n.done) throw new Error('the CLI ended early');
        if ((n.value as any).type === 'result') break;
      }
    }
  } finally {
    input.end();
    q.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
