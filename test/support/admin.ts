// The admin API and app keys as the tests use them: admin calls with a key, app keys made through
// the API, one request per dialect through its real client, and the error a refused call carries.
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { TEST_KEY, type Harness } from './harness.js';

export interface AdminAnswer {
  status: number;
  json: any;
  headers: Headers;
}

/** Helpers bound to the harness a test file starts (read when called: files start it in before()). */
export function adminTools(harness: () => Harness) {
  async function admin(method: string, path: string, body?: unknown, key = TEST_KEY): Promise<AdminAnswer> {
    const res = await fetch(`${harness().gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any = text;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, headers: res.headers };
  }

  async function createKey(spec: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const r = await admin('POST', '/admin/keys', spec);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json;
  }

  const openai = (key: string) => new OpenAI({ baseURL: harness().baseURL, apiKey: key, maxRetries: 0 });
  const anthropic = (key: string) => new Anthropic({ baseURL: harness().gw.url, apiKey: key, maxRetries: 0 });

  /** One request in each dialect, through its real client. */
  const dialects: [string, (key: string, text: string) => Promise<unknown>][] = [
    ['openai-chat', (key, text) => openai(key).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: text }] })],
    ['responses', (key, text) => openai(key).responses.create({ model: 'sonnet', input: text })],
    ['anthropic', (key, text) => anthropic(key).messages.create({ model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: text }] })],
  ];

  return { admin, createKey, openai, anthropic, dialects };
}

/** The error a client call threw (both SDKs throw an APIError with status, headers and body). */
export async function refusal(p: Promise<unknown>): Promise<{ status: number; headers: Headers; body: any }> {
  try {
    await p;
  } catch (e: any) {
    assert.ok(typeof e.status === 'number', `an API error, not ${e}`);
    return { status: e.status, headers: e.headers, body: e.error };
  }
  assert.fail('the request succeeded');
}

/** The error's message and code, wherever the dialect puts them. */
export function errorOf(dialect: string, body: any): { message: string; type: string; code?: string } {
  if (dialect === 'anthropic') {
    assert.equal(body.type, 'error');
    return { message: body.error.message, type: body.error.type };
  }
  return { message: body.message ?? body.error?.message, type: body.type ?? body.error?.type, code: body.code ?? body.error?.code };
}
