/** createApp(deps) -> the Express app. It never listens: server.ts and the tests do. */
import express from 'express';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { authentication } from './auth/authenticate';
import type { AuthSetup } from './auth';
import type { RateLimitConfig } from './config';
import { assignRequestId } from './http/access-log';
import { faultInjection } from './http/faults';
import { InFlight } from './http/in-flight';
import { problemHandler, sendProblem } from './http/problems';
import { AuthFailureLimit, callerRateLimit } from './http/rate-limit';
import { RouteGroup } from './http/routing';
import { setNoSniff } from './http/security-headers';
import { instrumentResponses, startTiming } from './metrics/middleware';
import type { HttpMetrics } from './metrics/registry';
import { itemRoutes } from './routes/items';
import { opsRoutes } from './routes/ops';
import { ITEMS_PATH } from './contract';
import type { Readiness } from './routes/ops';
import { openApiRoutes } from './routes/openapi';
import { runbookRoutes } from './routes/runbooks';
import type { ItemStore } from './store';

export interface AppDeps {
  readonly store: ItemStore;
  readonly metrics: HttpMetrics;
  readonly logger: Logger;
  /** Shutdown state; readiness answers 503 once it reports shutting down. */
  readonly lifecycle: { isShuttingDown(): boolean };
  /** Honour fault-injection headers. @default false */
  readonly faultInjection?: boolean;
  /** Serve /metrics on this app; false when a separate metrics listener serves it. @default true */
  readonly serveMetrics?: boolean;
  /** Readiness state; by default each /readyz pings the store (at most 2 s). */
  readonly readiness?: Readiness;
  /** The requests being answered; pass one to drain it on shutdown. @default a new one */
  readonly inFlight?: InFlight;
  /** API requests answered at once; beyond, 503 `overloaded`. @default no limit */
  readonly maxInFlight?: number;
  /** Who may call the API routes. @default no authentication: every caller is anonymous */
  readonly auth?: AuthSetup;
  /** Per-caller limit (off when rps is 0) and limit of failed authentications per address (off when 0). @default none */
  readonly rateLimit?: RateLimitConfig;
  /** Proxies in front of the app whose X-Forwarded-For names the client address. @default 0 */
  readonly trustProxyHops?: number;
}

const READY_TIMEOUT_MS = 2_000;

/** Readiness checked on demand, for apps without a background check (tests, benchmarks). */
function pingOnDemand(deps: AppDeps): Readiness {
  return async () => {
    if (deps.lifecycle.isShuttingDown()) return { ready: false, detail: 'shutting down' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([deps.store.ping(), timeout]);
      return { ready: true };
    } catch {
      return { ready: false, detail: 'store unreachable' };
    } finally {
      clearTimeout(timer);
    }
  };
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // A hop count, never `true`: a client could otherwise name any address in X-Forwarded-For.
  if ((deps.trustProxyHops ?? 0) > 0) app.set('trust proxy', deps.trustProxyHops);
  const inFlight = deps.inFlight ?? new InFlight();
  instrumentResponses(app, deps.metrics, deps.logger);
  // One layer for what every request needs first: a layer per concern costs a router step each.
  app.use((req, res, next) => {
    startTiming(res);
    setNoSniff(res);
    assignRequestId(req, res);
    // Draining: let each keep-alive connection close after its current response.
    if (deps.lifecycle.isShuttingDown()) res.setHeader('Connection', 'close');
    inFlight.track(req, res, next);
  });

  const verifier = deps.auth?.verifier;
  const limits = deps.rateLimit;
  const api = new RouteGroup(app, '', {
    // These run once the route is known, so an overload, a 401 or a 429 counts against the route.
    before: [
      ...(deps.maxInFlight === undefined ? [] : [inFlight.limit(deps.maxInFlight)]),
      // Without a verifier every caller is anonymous, known by its address: the rate limit and
      // the access log find it themselves, so no step runs on every request to say so.
      ...(verifier === undefined
        ? []
        : [
            authentication({
              ...deps.auth,
              logger: deps.logger,
              failures:
                limits !== undefined && limits.authFailuresPerMinute > 0
                  ? new AuthFailureLimit(limits.authFailuresPerMinute, deps.logger)
                  : undefined,
            }),
          ]),
      ...(limits !== undefined && limits.rps > 0 ? [callerRateLimit(limits.rps, limits.burst, deps.logger)] : []),
      ...(deps.faultInjection === true ? [faultInjection({ authenticatedOnly: verifier !== undefined })] : []),
    ],
    onRoute: (method, endpoint) => deps.metrics.declareRoute(method, endpoint),
  });
  // The API's routes first: most requests are theirs, and each route before costs them a step.
  itemRoutes(api.group(ITEMS_PATH), deps.store);
  app.use(api.pathDecodeErrors());

  // Operational endpoints: not counted (see routes/ops.ts).
  const operational = () => new RouteGroup(app, '', { counted: false });
  opsRoutes(operational(), deps.readiness ?? pingOnDemand(deps), deps.serveMetrics === false ? undefined : deps.metrics);
  runbookRoutes(operational());
  openApiRoutes(operational());

  app.use((req, res) => {
    sendProblem(res, 'route_not_found', { detail: `no route matches ${req.method} ${req.path.slice(0, 200)}` });
  });
  app.use(problemHandler(deps.logger));
  return app;
}
