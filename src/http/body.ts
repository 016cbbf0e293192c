// Request bodies: size-limited (413), nesting-limited and parsed as JSON (400), then validated with a
// zod schema whose failures name the offending field.
//
// One policy for every JSON input: at most `limit` bytes (GATEWAY_BODY_LIMIT_BYTES) and at most
// `maxDepth` levels of arrays and objects (GATEWAY_MAX_JSON_DEPTH, 64). Depth is checked on the raw
// text before JSON.parse, so a body of a million brackets costs one linear scan, and nothing that
// walks the parsed value later (schema checks, Ajv, JSON.stringify) can run out of stack.
import type { Context } from 'hono';
import type { z } from 'zod';
import { clip, GatewayError } from '../errors.js';

export const DEFAULT_MAX_JSON_DEPTH = 64;

const RAW_BODY = 'rawBody' as never;

/** The request body exactly as readJson read it (undefined before, or for a request without one). */
export function rawBodyOf(c: Context): Uint8Array | undefined {
  return c.get(RAW_BODY) as Uint8Array | undefined;
}

export async function readJson(c: Context, limit: number, maxDepth = DEFAULT_MAX_JSON_DEPTH): Promise<unknown> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > limit) throw new GatewayError('request_too_large', `The request body is larger than the limit of ${limit} bytes.`);
  const body = c.req.raw.body;
  if (!body) throw new GatewayError('invalid_request', 'The request needs a JSON body.');
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new GatewayError('request_too_large', `The request body is larger than the limit of ${limit} bytes.`);
    }
    chunks.push(value);
  }
  const raw = Buffer.concat(chunks);
  c.set(RAW_BODY, raw as never); // the bytes as sent: a replica forwards them unchanged (cluster/)
  const text = raw.toString('utf8');
  if (!text.trim()) throw new GatewayError('invalid_request', 'The request needs a JSON body.');
  return parseJsonText(text, maxDepth);
}

/** JSON.parse within the depth policy; every failure is a 400. */
export function parseJsonText(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  const deep = tooDeepAt(text, maxDepth);
  if (deep) {
    const where = pathString(deep);
    throw new GatewayError(
      'invalid_request',
      `The request body is nested too deeply${where ? ` at '${where}'` : ''}: at most ${maxDepth} levels of arrays and objects are allowed.`,
      { param: where || undefined, code: 'nesting_too_deep' },
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GatewayError('invalid_request', `The request body is not valid JSON: ${clip((e as Error).message, 200)}`);
  }
}

type Level = { array: boolean; key: string | number; expectKey: boolean };

/**
 * Scans JSON text for nesting deeper than `max` without parsing it; returns the path (keys and
 * indexes) of the first container that goes too deep, or undefined. Malformed text is left for
 * JSON.parse to report.
 */
function tooDeepAt(text: string, max: number): (string | number)[] | undefined {
  const stack: Level[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return undefined; // unterminated: JSON.parse says so
        let backslashes = 0;
        for (let k = j - 1; k > i && text.charCodeAt(k) === 0x5c; k--) backslashes++;
        if (backslashes % 2 === 0) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        top.key = text.slice(i + 1, Math.min(j, i + 1 + 2 * 64));
        top.expectKey = false;
      }
      i = j;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (stack.length >= max) return stack.map((l) => l.key);
      stack.push({ array: ch === 0x5b, key: ch === 0x5b ? 0 : '', expectKey: ch === 0x7b });
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.array) (top.key as number)++;
      else if (top) top.expectKey = true;
    }
  }
  return undefined;
}

/** A field path as error messages and `param` give it: dotted, each segment and the whole clipped. */
export function pathString(path: readonly PropertyKey[]): string {
  return clip(path.map((s) => clip(String(s))).join('.'), 200);
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = pathString(issue.path);
  throw new GatewayError('invalid_request', where ? `Invalid value for '${where}': ${clip(issue.message, 300)}` : clip(issue.message, 300), {
    param: where || undefined,
    code: 'invalid_value',
  });
}
