// Reasoning as Codex keeps it: with `include: ["reasoning.encrypted_content"]` a reasoning item
// carries the model's signed thinking in `encrypted_content`, and the client sends the item back
// in later requests. The content is a versioned envelope, "ccg1." + base64url(JSON {thinking,
// signature}): not secret (the summary shows the same text), and not trusted either: the signature
// is Anthropic's, and the conversations code gives thinking back to the API only when it recorded
// that signature as its own output in the same conversation shape.
import { GatewayError } from '../../errors.js';

export const ENVELOPE_PREFIX = 'ccg1.';
export const INCLUDE_ENCRYPTED = 'reasoning.encrypted_content';

export interface SignedThinking {
  thinking: string;
  signature: string;
}

export function sealThinking(t: SignedThinking): string {
  return ENVELOPE_PREFIX + Buffer.from(JSON.stringify({ thinking: t.thinking, signature: t.signature })).toString('base64url');
}

/**
 * The thinking an encrypted_content carries. Content of another origin (OpenAI's own, say, from a
 * conversation that began there) is not ours to read: undefined, and the item's summary stands in.
 * Content that claims to be ours but does not decode is a 400.
 */
export function openThinking(content: string, param: string): SignedThinking | undefined {
  if (!content.startsWith(ENVELOPE_PREFIX)) return undefined;
  const bad = () => new GatewayError('invalid_request', `The encrypted_content of '${param}' is damaged: it is not the envelope the gateway issued.`, { param: `${param}.encrypted_content`, code: 'invalid_encrypted_content' });
  const body = content.slice(ENVELOPE_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw bad();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const o = v as Partial<SignedThinking> | null;
  if (!o || typeof o !== 'object' || typeof o.thinking !== 'string' || typeof o.signature !== 'string' || !o.signature) throw bad();
  return { thinking: o.thinking, signature: o.signature };
}
