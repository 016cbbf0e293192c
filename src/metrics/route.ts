// GET /metrics: the Prometheus text format. Scraped with the gateway (admin) key or the dedicated
// scrape key (GATEWAY_METRICS_KEY), which opens nothing else; an app key is refused with 403.
// Wrong keys count toward the same key-guessing throttle as the API's.
import type { Context, Hono } from 'hono';
import { keyMatches, presentedKey } from '../config/api-key.js';
import { openAIErrorBody } from '../dialects/shared/openai-error.js';
import { GatewayError } from '../errors.js';
import { AuthThrottle } from '../http/auth-throttle.js';
import { errorResponse } from '../http/respond.js';
import type { GatewayObserver } from './observer.js';
import { setKeyName } from './request-labels.js';

export interface MetricsRouteDeps {
  observer: GatewayObserver;
  adminKeys: string[];
  metricsKey?: string;
  /** True for a key that may call the model APIs only (an app key): 403 here rather than 401. */
  isAppKey?: (key: string) => Promise<boolean> | boolean;
  throttle: AuthThrottle;
  addressOf: (c: Context) => string;
}

export function registerMetricsRoute(app: Hono, deps: MetricsRouteDeps): void {
  app.get('/metrics', async (c) => {
    const key = presentedKey((n) => c.req.header(n));
    if (!key) return errorResponse(c, new GatewayError('authentication', 'Missing key: scrape /metrics with the gateway key or GATEWAY_METRICS_KEY as Authorization: Bearer <key>.', { code: 'invalid_api_key' }), openAIErrorBody);
    const addr = deps.addressOf(c);
    const wait = deps.throttle.retryAfter(addr);
    if (wait !== undefined) return errorResponse(c, AuthThrottle.refusal(wait), openAIErrorBody);
    if (keyMatches(key, deps.adminKeys)) setKeyName(c, 'admin');
    else if (deps.metricsKey && keyMatches(key, [deps.metricsKey])) setKeyName(c, 'metrics');
    else if (await deps.isAppKey?.(key)) {
      return errorResponse(c, new GatewayError('permission', 'An app key cannot read /metrics: use the gateway key or GATEWAY_METRICS_KEY.', { code: 'admin_key_required' }), openAIErrorBody);
    } else {
      deps.throttle.fail(addr);
      return errorResponse(c, new GatewayError('authentication', 'Incorrect key for /metrics.', { code: 'invalid_api_key' }), openAIErrorBody);
    }
    const text = await deps.observer.metrics.text();
    return c.body(text, 200, { 'Content-Type': deps.observer.metrics.contentType, 'Cache-Control': 'no-store' });
  });
}
