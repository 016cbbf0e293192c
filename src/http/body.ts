// Request bodies: size-limited (413) and parsed as JSON (400), then validated with a zod schema
// whose failures name the offending field.
import type { Context } from 'hono';
import type { z } from 'zod';
import { GatewayError } from '../errors.js';

export async function readJson(c: Context, limit: number): Promise<unknown> {
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
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new GatewayError('invalid_request', 'The request needs a JSON body.');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GatewayError('invalid_request', `The request body is not valid JSON: ${(e as Error).message}`);
  }
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.join('.');
  throw new GatewayError('invalid_request', where ? `Invalid value for '${where}': ${issue.message}` : issue.message, {
    param: where || undefined,
    code: 'invalid_value',
  });
}
