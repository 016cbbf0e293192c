// Anthropic prompt caching, as documented, for the scripted upstream: what a real account would be
// billed as cache reads, cache writes and plain input for a Messages API request.
//   - The prompt is a list of blocks: tools, then system blocks, then each message's content blocks.
//   - A block carrying cache_control is a breakpoint (at most 4 per request). The prefix up to a
//     breakpoint is written to the cache if it is at least minCacheableTokens long.
//   - Each breakpoint looks for a written, unexpired prefix at its own boundary and at up to
//     `lookback` (20) earlier boundaries; the longest hit is read. A hit refreshes the entry's TTL.
import { createHash } from 'node:crypto';

export interface PromptCacheOptions {
  /** How long an entry lives after its last write or read (the API's default 5 minutes). */
  ttlMs?: number;
  /** The shortest prefix the API caches (1024 tokens for Sonnet and Opus). */
  minCacheableTokens?: number;
  /** How many earlier block boundaries a breakpoint searches for a hit. */
  lookback?: number;
  now?: () => number;
  /** Tokens of one block (given without cache_control). */
  countTokens?: (block: unknown) => number;
}

export interface CacheUsage {
  input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

type Block = Record<string, unknown>;

const textBlock = (text: unknown): Block => ({ type: 'text', text });
const withoutCacheControl = (block: Block): Block => {
  if (!block || typeof block !== 'object') return block;
  const { cache_control: _, ...rest } = block;
  return rest;
};
const contentBlocks = (content: unknown): Block[] =>
  typeof content === 'string' ? [textBlock(content)] : Array.isArray(content) ? content : [];

export class PromptCache {
  private readonly ttlMs: number;
  private readonly minTokens: number;
  private readonly lookback: number;
  private readonly now: () => number;
  private readonly countTokens: (block: unknown) => number;
  /** `${scope}\0${prefix hash}` -> expiry time. */
  private readonly entries = new Map<string, number>();

  constructor(opts: PromptCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 300_000;
    this.minTokens = opts.minCacheableTokens ?? 1024;
    this.lookback = opts.lookback ?? 20;
    this.now = opts.now ?? Date.now;
    this.countTokens = opts.countTokens ?? ((b) => Math.ceil(JSON.stringify(b).length / 4));
  }

  account(body: any, scope: string): CacheUsage {
    const blocks = promptBlocks(body);
    // hashes[i] and tokens[i] describe the prefix of the first i blocks.
    const hashes: string[] = [createHash('sha256').update(`model:${String(body?.model ?? '')}`).digest('hex')];
    const tokens: number[] = [0];
    for (const { kind, block } of blocks) {
      const plain = withoutCacheControl(block);
      hashes.push(createHash('sha256').update(hashes[hashes.length - 1]).update(`\0${kind}\0${JSON.stringify(plain)}`).digest('hex'));
      tokens.push(tokens[tokens.length - 1] + this.countTokens(plain));
    }
    const total = tokens[tokens.length - 1];
    // The API refuses a request with more than 4 breakpoints; honour only the first 4.
    const breakpoints = blocks.flatMap((b, i) => (b.block?.cache_control ? [i + 1] : [])).slice(0, 4);
    if (!breakpoints.length) return { input_tokens: total, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

    const now = this.now();
    const key = (boundary: number) => `${scope}\0${hashes[boundary]}`;
    let hit = 0;
    for (const bp of breakpoints) {
      for (let b = bp; b >= Math.max(1, bp - this.lookback); b--) {
        const expires = this.entries.get(key(b));
        if (expires === undefined) continue;
        if (expires <= now) {
          this.entries.delete(key(b));
          continue;
        }
        this.entries.set(key(b), now + this.ttlMs); // a read keeps the entry alive
        hit = Math.max(hit, b);
        break;
      }
    }
    for (const bp of breakpoints) if (tokens[bp] >= this.minTokens) this.entries.set(key(bp), now + this.ttlMs);

    const last = breakpoints[breakpoints.length - 1];
    const read = tokens[hit];
    // Below the minimum the last prefix is not written (nor is any shorter one): all plain input.
    const created = tokens[last] >= this.minTokens ? tokens[last] - read : 0;
    return { input_tokens: total - read - created, cache_read_input_tokens: read, cache_creation_input_tokens: created };
  }
}

/** The request's blocks in the order the API caches them, each tagged with where it sits. */
function promptBlocks(body: any): { kind: string; block: Block }[] {
  const out: { kind: string; block: Block }[] = [];
  for (const tool of Array.isArray(body?.tools) ? body.tools : []) out.push({ kind: 'tool', block: tool });
  for (const block of contentBlocks(body?.system)) {
    // Claude Code's per-request billing header changes every call and is not part of the cached prefix.
    if (block?.type === 'text' && String(block.text).startsWith('x-anthropic-billing-header')) continue;
    out.push({ kind: 'system', block });
  }
  // The role is in the hash: the same text said by another role is another prompt.
  for (const m of Array.isArray(body?.messages) ? body.messages : []) {
    for (const block of contentBlocks(m?.content)) out.push({ kind: `message:${String(m?.role)}`, block });
  }
  return out;
}
