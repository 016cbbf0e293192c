// The pool of Claude credentials as the accounts tests drive it: which credential each model request
// carried (the scripted upstream tells them apart), a gateway with declared members, and the pool's
// own view through /auth/status and /auth/accounts.
import { modelRequests } from './conversation.js';
import { credentialOf } from './fake-upstream.js';
import { startHarness, TEST_KEY, type Harness } from './harness.js';

/** The harness's ANTHROPIC_API_KEY: the pool's "default" member. */
export const DEFAULT_KEY = 'sk-ant-test-upstream';
export const SECOND_KEY = 'sk-ant-api03-second-000000000000000000000';

/** The credential of every model request the upstream got, in order. */
export const who = (h: Harness) => modelRequests(h.upstream).map((r) => credentialOf(r.headers));

/** A gateway whose pool has the default member and these declared ones (GATEWAY_ACCOUNTS). */
export function pooled(accounts: object[], opts: { config?: Parameters<typeof startHarness>[0]; env?: NodeJS.ProcessEnv } = {}): Promise<Harness> {
  return startHarness({ fallbackRetryAfterSec: 30, ...opts.config }, { env: { GATEWAY_ACCOUNTS: JSON.stringify(accounts), ...opts.env } });
}

export const status = async (h: Harness) => (await (await fetch(`${h.gw.url}/auth/status`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as any;
export const account = async (h: Harness, name: string) => (await status(h)).accounts.find((a: any) => a.name === name);

/** A call to the /auth API with the gateway key. */
export async function call(h: Harness, method: string, p: string, body?: object) {
  const res = await fetch(`${h.gw.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as any };
}

export const names = async (h: Harness) => (await call(h, 'GET', '/auth/accounts')).json.accounts.map((a: any) => a.name);
