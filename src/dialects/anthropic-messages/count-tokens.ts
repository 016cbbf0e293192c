// POST /v1/messages/count_tokens answers with an estimate: Claude Code has no token-counting call,
// and the gateway holds no Anthropic credentials of its own to ask the API. Text counts ~4 characters
// a token; an image counts as a large one (~1,600 tokens, Anthropic's figure for ~1.15 megapixels);
// a PDF ~1,500 tokens a page. Good enough for budgeting and context checks, not for billing.
import type { Part } from '../../engine/types.js';

const CHARS_PER_TOKEN = 4;
const IMAGE_TOKENS = 1600;
const PDF_PAGE_TOKENS = 1500;
/** What every turn carries besides the client's content (role framing). */
const PER_MESSAGE_TOKENS = 3;

function pdfPages(base64: string): number {
  const text = Buffer.from(base64, 'base64').toString('latin1');
  return Math.max(1, (text.match(/\/Type\s*\/Page(?!s)/g) ?? []).length);
}

function partChars(p: Part): { chars: number; tokens: number } {
  switch (p.type) {
    case 'text':
      return { chars: p.text.length, tokens: 0 };
    case 'thinking':
      return { chars: p.text.length, tokens: 0 };
    case 'tool_call':
      return { chars: p.name.length + JSON.stringify(p.input ?? {}).length, tokens: 0 };
    case 'tool_result':
      return p.content.map(partChars).reduce((a, b) => ({ chars: a.chars + b.chars, tokens: a.tokens + b.tokens }), { chars: 0, tokens: 0 });
    case 'image':
      return { chars: 0, tokens: IMAGE_TOKENS };
    case 'document': {
      const s = p.source;
      if (s.type === 'text') return { chars: s.data.length, tokens: 0 };
      if (s.type === 'base64') return { chars: 0, tokens: pdfPages(s.data) * PDF_PAGE_TOKENS };
      return { chars: 0, tokens: PDF_PAGE_TOKENS };
    }
  }
}

export function estimateInputTokens(input: { system?: string; messages: { content: Part[] }[]; tools?: unknown[] }): number {
  let chars = (input.system?.length ?? 0) + (input.tools?.length ? JSON.stringify(input.tools).length : 0);
  let tokens = 0;
  for (const m of input.messages) {
    tokens += PER_MESSAGE_TOKENS;
    for (const p of m.content) {
      const c = partChars(p);
      chars += c.chars;
      tokens += c.tokens;
    }
  }
  return Math.max(1, tokens + Math.ceil(chars / CHARS_PER_TOKEN));
}
