// `metadata` as OpenAI takes it (Chat Completions and Responses): at most 16 key-value pairs, keys
// of at most 64 characters, values strings of at most 512. Anything else is a 400 naming the field,
// as OpenAI answers; a deeply nested value never gets as far as a turn.
import { z } from 'zod';

export const METADATA_MAX_KEYS = 16;
export const METADATA_MAX_KEY_LENGTH = 64;
export const METADATA_MAX_VALUE_LENGTH = 512;

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export const openAIMetadata = z.record(z.string(), z.unknown()).superRefine((m, ctx) => {
  const keys = Object.keys(m);
  if (keys.length > METADATA_MAX_KEYS) {
    ctx.addIssue({ code: 'custom', message: `too many properties: at most ${METADATA_MAX_KEYS} key-value pairs are allowed, got ${keys.length}.` });
    return;
  }
  const long = keys.find((k) => k.length > METADATA_MAX_KEY_LENGTH);
  if (long !== undefined) {
    ctx.addIssue({ code: 'custom', message: `property name too long: keys are at most ${METADATA_MAX_KEY_LENGTH} characters, got one of ${long.length}.` });
    return;
  }
  for (const k of keys) {
    const v = m[k];
    if (typeof v !== 'string') {
      ctx.addIssue({ code: 'custom', path: [k], message: `expected a string, but got ${kindOf(v)} instead.` });
      return;
    }
    if (v.length > METADATA_MAX_VALUE_LENGTH) {
      ctx.addIssue({ code: 'custom', path: [k], message: `string too long: at most ${METADATA_MAX_VALUE_LENGTH} characters, got ${v.length}.` });
      return;
    }
  }
});
