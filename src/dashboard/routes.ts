// /dashboard: the operator's view, behind the same sign-in as /auth (the gateway key once, then the
// web session cookie; or the key as a header). An app key is refused with 403. The page, its script,
// its chart library (uPlot, read from the package's node_modules) and its JSON are all served here.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { renderKeyForm } from '../auth/page.js';
import type { WebSessions } from '../auth/web-session.js';
import { keyMatches, presentedKey } from '../config/api-key.js';
import { openAIErrorBody } from '../dialects/shared/openai-error.js';
import type { Engine } from '../engine/engine.js';
import { GatewayError } from '../errors.js';
import { AuthThrottle } from '../http/auth-throttle.js';
import { errorResponse } from '../http/respond.js';
import type { GatewayObserver } from '../metrics/observer.js';
import { setKeyName } from '../metrics/request-labels.js';
import { DASHBOARD_JS } from './client.js';
import { DASHBOARD_CSS, dashboardCsp, renderDashboard } from './page.js';

export interface DashboardDeps {
  observer: GatewayObserver;
  engine: Engine;
  sessions: WebSessions;
  adminKeys: string[];
  /** True for a key that may call the model APIs only (an app key): 403 here rather than 401. */
  isAppKey?: (key: string) => Promise<boolean> | boolean;
  throttle: AuthThrottle;
  addressOf: (c: Context) => string;
}

interface Asset {
  type: string;
  body: string;
}

function loadAssets(): Record<string, Asset> {
  const require = createRequire(import.meta.url);
  const read = (spec: string) => fs.readFileSync(require.resolve(spec), 'utf8');
  return {
    'uplot.js': { type: 'text/javascript; charset=utf-8', body: read('uplot/dist/uPlot.iife.min.js') },
    'uplot.css': { type: 'text/css; charset=utf-8', body: read('uplot/dist/uPlot.min.css') },
    'dashboard.js': { type: 'text/javascript; charset=utf-8', body: DASHBOARD_JS },
    'dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
  };
}

const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' };

export function registerDashboard(app: Hono, deps: DashboardDeps): void {
  const assets = loadAssets();
  const version = crypto.createHash('sha256').update(Object.values(assets).map((a) => a.body).join('\0')).digest('hex').slice(0, 12);
  const csrfOf = new WeakMap<Request, string>();

  const deny = (c: Context, err: GatewayError) => errorResponse(c, err, openAIErrorBody);
  const html = (c: Context, body: (nonce: string) => string, status: 200 | 401 | 429 = 200) => {
    const nonce = crypto.randomBytes(16).toString('base64');
    return c.html(body(nonce), status, { ...SECURITY_HEADERS, 'Content-Security-Policy': dashboardCsp(nonce), 'Cache-Control': 'no-store' });
  };

  const guard: MiddlewareHandler = async (c, next) => {
    const key = presentedKey((n) => c.req.header(n));
    if (key) {
      const addr = deps.addressOf(c);
      const wait = deps.throttle.retryAfter(addr);
      if (wait !== undefined) return deny(c, AuthThrottle.refusal(wait));
      if (keyMatches(key, deps.adminKeys)) {
        setKeyName(c, 'admin');
        return next();
      }
      if (await deps.isAppKey?.(key)) return deny(c, new GatewayError('permission', 'An app key cannot open the dashboard: use the gateway key.', { code: 'admin_key_required' }));
      deps.throttle.fail(addr);
      return deny(c, new GatewayError('authentication', 'Incorrect API key provided.', { code: 'invalid_api_key' }));
    }
    const session = deps.sessions.fromRequest(c);
    if (session) {
      setKeyName(c, 'admin');
      csrfOf.set(c.req.raw, session.csrf);
      return next();
    }
    // The same sign-in form as /auth, which comes back here once the key is right.
    if (c.req.method === 'GET' && c.req.path === '/dashboard') return html(c, (n) => renderKeyForm(n, undefined, { next: '/dashboard' }), 401);
    return deny(c, new GatewayError('authentication', 'Sign in at /dashboard with the gateway key, or send it as Authorization: Bearer <key>.', { code: 'invalid_api_key' }));
  };
  app.use('/dashboard', guard);
  app.use('/dashboard/*', guard);

  app.get('/dashboard', (c) => html(c, (nonce) => renderDashboard({ nonce, csrf: csrfOf.get(c.req.raw) ?? '', assetVersion: version })));

  app.get('/dashboard/assets/:name', (c) => {
    const a = assets[c.req.param('name')];
    if (!a) return deny(c, new GatewayError('not_found', 'No such dashboard asset.'));
    return c.body(a.body, 200, { ...SECURITY_HEADERS, 'Content-Type': a.type, 'Cache-Control': 'private, max-age=86400' });
  });

  app.get('/dashboard/api/overview', (c) => {
    const now = Date.now();
    const { observer, engine } = deps;
    c.header('Cache-Control', 'no-store');
    return c.json({
      now,
      auth: observer.login() ?? null,
      stats: engine.stats(),
      processes: engine.processStates(),
      live_turns: observer.liveTurns(now).map((t) => ({
        id: t.id,
        model: t.model,
        path: t.path,
        key: t.key,
        route: t.route,
        request_id: t.requestId,
        started_at: t.startedAt,
        running_ms: now - t.startedAt,
        queue_ms: t.queueMs,
        tool_results: t.toolResults,
      })),
      recent_errors: observer.errors.list(),
      timeline: observer.timeline.snapshot(now),
    });
  });
}
