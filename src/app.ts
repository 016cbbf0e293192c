// The HTTP surface, wired above the dialects: /health without auth, everything else behind the
// gateway key or an app key (src/admin/access.ts; failed keys throttled), every response with a request id.
import { Hono, type Context } from 'hono';
import { registerAuthRoutes, type AuthRouteDeps } from './auth/routes.js';
import { Admin, callerOf, visibleModels } from './admin/admin.js';
import { keyCheck } from './admin/access.js';
import { registerAdminRoutes } from './admin/routes.js';
import { WebSessions } from './auth/web-session.js';
import { registerDashboard } from './dashboard/routes.js';
import { registerChatCompletions } from './dialects/openai-chat/route.js';
import { registerAnthropicMessages } from './dialects/anthropic-messages/route.js';
import { anthropicModel, anthropicModelList } from './dialects/anthropic-messages/models.js';
import { errorShapeFor, speaksAnthropic } from './dialects/dialect.js';
import { registerResponses } from './dialects/openai-responses/route.js';
import { openAIModel, openAIModelList } from './dialects/openai-chat/models.js';
import { clip, GatewayError } from './errors.js';
import type { RouteDeps } from './http/context.js';
import { AuthThrottle, clientAddress, parseTrustProxy } from './http/auth-throttle.js';
import { OpenStreams, requestScope } from './http/request-scope.js';
import { errorResponse, requestIdOf, requestIds } from './http/respond.js';
import { GatewayObserver } from './metrics/observer.js';
import type { Cluster } from './cluster/cluster.js';
import { INTERNAL_PREFIX } from './cluster/hop.js';
import { registerMetricsRoute } from './metrics/route.js';

export interface AppDeps extends RouteDeps {
  keys: string[];
  isReady: () => boolean;
  /** The Claude login routes (/auth); absent, /auth is just another path behind the key. */
  auth?: Omit<AuthRouteDeps, 'throttle' | 'addressOf'>;
  /** App keys and usage (made from the store when absent). */
  admin?: Admin;
  /** The open streams a shutdown ends (server.ts keeps them). */
  streams?: OpenStreams;
  /** True from the moment a drain starts: readiness answers 503 draining (the balancer stops sending). */
  isDraining?: () => boolean;
  /** Several replicas (cluster/): the internal hop, the interactive login wherever it runs, shared web sessions. */
  cluster?: Cluster;
}

/** Paths that check their own credentials: /metrics (also a scrape key) and /dashboard (also the web session). */
const selfGuarded = (path: string) => path === '/metrics' || path === '/dashboard' || path.startsWith('/dashboard/');

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  // Signed requests from another replica, answered by the routes below as if the client had called them.
  if (deps.cluster) app.use(`${INTERNAL_PREFIX}/*`, deps.cluster.internal((req, env) => app.fetch(req, env)));

  const streams = deps.streams ?? new OpenStreams();
  const trust = parseTrustProxy(deps.config.trustProxy);
  const throttle = new AuthThrottle({
    freeFailures: deps.config.authFreeFailures,
    baseBlockMs: 1000,
    maxBlockMs: deps.config.authMaxBlockSec * 1000,
    forgetMs: 15 * 60_000,
    maxEntries: 10_000,
    log: deps.log,
  });
  const addressOf = (c: Context) => clientAddress(c, trust);
  const sessions = new WebSessions(deps.cluster?.keys.session);
  const observer = new GatewayObserver({ engine: deps.engine, authStatus: deps.auth && (() => deps.auth!.auth.status()), turnTimeoutMs: deps.config.turnTimeoutMs });

  // Every response carries a request id, and every log line about a request names it.
  app.use('*', requestIds(deps.log));
  // Every request is counted (route, model, status, key) once answered: metrics/.
  app.use('*', observer.middleware());
  app.use('*', async (c, next) => {
    const t0 = Date.now();
    await requestScope.run({ c, streams }, next);
    // A draining replica closes each connection after its answer: a balancer's kept-alive connection
    // would otherwise bring it requests after its health check took it out.
    if (deps.isDraining?.()) c.header('Connection', 'close');
    deps.log.info({ requestId: requestIdOf(c), method: c.req.method, path: c.req.path, status: c.res.status, ms: Date.now() - t0 }, 'request');
  });

  // Readiness (the balancer's check): 503 while starting and from the moment a drain starts.
  app.get('/health', (c) => (deps.isDraining?.() ? c.json({ status: 'draining' }, 503) : deps.isReady() ? c.json({ status: 'ok' }) : c.json({ status: 'starting' }, 503)));
  // Liveness (Kubernetes livenessProbe): the process serves HTTP, also while starting or draining.
  app.get('/health/live', (c) => c.json({ status: 'ok' }));

  // Every path but /health needs a key: the admin key anywhere, an app key on the model APIs only.
  // /metrics and /dashboard check their own (a scrape key; the web session), with the same 403 for app keys.
  const admin = deps.admin ?? new Admin({ store: deps.store, log: deps.log, adminKeys: deps.keys, usageRetentionDays: deps.config.usageRetentionDays });
  const check = keyCheck({ admin, throttle, addressOf, sessions: deps.auth ? sessions : undefined });
  app.use('*', (c, next) => (selfGuarded(c.req.path) ? next() : check(c, next)));
  const isAppKey = async (key: string) => {
    const who = await admin.identify(key);
    return 'caller' in who && who.caller.kind === 'app';
  };

  if (deps.auth && deps.cluster) app.use('/auth/login/*', deps.cluster.loginAffinity());
  if (deps.auth && deps.cluster) app.use('/auth/login', deps.cluster.loginAffinity());
  if (deps.auth) registerAuthRoutes(app, { ...deps.auth, throttle, addressOf, sessions });
  registerAdminRoutes(app, admin, () => deps.engine.catalog);
  registerMetricsRoute(app, { observer, adminKeys: deps.keys, metricsKey: deps.config.metricsKey, isAppKey, throttle, addressOf });
  registerDashboard(app, { observer, engine: deps.engine, sessions, adminKeys: deps.keys, isAppKey, throttle, addressOf });
  registerChatCompletions(app, deps);
  registerAnthropicMessages(app, deps);
  registerResponses(app, deps);

  app.get('/stats', (c) => c.json({ ...deps.engine.stats(), ...(deps.cluster && { cluster: deps.cluster.stats() }) }));

  app.get('/v1/models', (c) => (speaksAnthropic(c) ? anthropicModelList : openAIModelList)(c, visibleModels(callerOf(c), deps.engine.catalog?.list() ?? [])));
  app.get('/v1/models/:id{.+}', (c) => {
    const m = deps.engine.catalog?.get(c.req.param('id'));
    if (!m) return errorResponse(c, new GatewayError('model_not_found', `The model '${clip(c.req.param('id'))}' does not exist.`, { param: 'model', code: 'model_not_found' }), errorShapeFor(c));
    return c.json(speaksAnthropic(c) ? anthropicModel(m) : openAIModel(m));
  });

  app.notFound((c) => errorResponse(c, new GatewayError('not_found', `No route for ${c.req.method} ${c.req.path}.`), errorShapeFor(c)));
  // Anything a handler throws: a logged 4xx/5xx in the dialect's shape, with the request id
  // (errorResponse logs an unexpected error with its stack, a 5xx at warn, a client's mistake at debug).
  app.onError((err, c) => errorResponse(c, err, errorShapeFor(c), deps.log));
  return app;
}
