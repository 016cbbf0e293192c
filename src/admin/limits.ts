// An app key's limits, checked before its turn starts: the model allowlist (403), then the token
// budgets for the UTC day and month, tokens per minute, requests per minute (429 with Retry-After
// until the window that is full rolls over). Minutes are fixed windows (a counter per key per
// minute, shared by replicas through the store). Tokens are counted when a turn ends, so the turn
// that crosses a budget finishes; the next one is refused.
import type { ConversationStore } from '../conversations/stores/store.js';
import { GatewayError } from '../errors.js';
import type { AppKey } from './app-keys.js';
import { minuteOf, monthOf, dayOf, secondsToNextDay, secondsToNextMinute, secondsToNextMonth } from './periods.js';
import { rateTable, type UsageBook } from './usage.js';

const RATE_TTL_MS = 120_000;

export function modelAllowed(key: AppKey, model: { requested: string; resolved: string }): boolean {
  return !key.models || key.models.some((m) => m === model.requested || m === model.resolved);
}

const fmt = (n: number) => n.toLocaleString('en-US');

function exhausted(what: string, code: string, retryAfterSec: number): GatewayError {
  return new GatewayError('rate_limited', `${what} Retry after ${retryAfterSec} s.`, { code, retryAfterSec });
}

export async function admit(store: ConversationStore, usage: UsageBook, key: AppKey, model: { requested: string; resolved: string }, now = Date.now()): Promise<void> {
  if (!modelAllowed(key, model)) {
    throw new GatewayError('permission', `This API key may not use the model '${model.requested}'; it may use: ${key.models!.join(', ')}.`, {
      code: 'model_not_allowed',
      param: 'model',
    });
  }
  const minute = minuteOf(now);
  const [day, month, rate] = await Promise.all([
    key.daily_tokens ? usage.totals(key.id, dayOf(now)) : undefined,
    key.monthly_tokens ? usage.totals(key.id, monthOf(now)) : undefined,
    key.tpm ? store.readCounters(rateTable(key.id, minute)) : undefined,
  ]);
  if (key.daily_tokens && day && day.tokens >= key.daily_tokens) {
    throw exhausted(`This API key's daily token budget (${fmt(key.daily_tokens)} tokens) is used up: ${fmt(day.tokens)} tokens today (UTC).`, 'daily_token_budget_exceeded', secondsToNextDay(now));
  }
  if (key.monthly_tokens && month && month.tokens >= key.monthly_tokens) {
    throw exhausted(`This API key's monthly token budget (${fmt(key.monthly_tokens)} tokens) is used up: ${fmt(month.tokens)} tokens this month (UTC).`, 'monthly_token_budget_exceeded', secondsToNextMonth(now));
  }
  const minuteTokens = rate?.total?.tokens ?? 0;
  if (key.tpm && minuteTokens >= key.tpm) {
    throw exhausted(`This API key's limit of ${fmt(key.tpm)} tokens per minute is reached.`, 'tokens_per_minute_exceeded', secondsToNextMinute(now));
  }
  if (key.rpm) {
    const counted = await store.addCounters(rateTable(key.id, minute), 'total', { requests: 1 }, RATE_TTL_MS);
    if ((counted.requests ?? 0) > key.rpm) {
      throw exhausted(`This API key's limit of ${fmt(key.rpm)} requests per minute is reached.`, 'requests_per_minute_exceeded', secondsToNextMinute(now));
    }
  }
}
