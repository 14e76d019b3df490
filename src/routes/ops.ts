/**
 * Operational endpoints: liveness, readiness and metrics. They are not counted in the HTTP
 * metrics: probes and scrapes arrive every few seconds from the platform, would dominate the
 * request rates the alerts watch, and their health already shows as Prometheus's own `up` and
 * `scrape_duration_seconds`.
 */
import type { RequestHandler } from 'express';
import type { HttpMetrics } from '../metrics/registry';
import { negotiateFormat } from '../metrics/negotiate';
import { sendProblem } from '../http/problems';
import { RouteGroup } from '../http/routing';
import type { ReadyState } from '../readiness';
import { HEALTH_PATH, METRICS_PATH, READY_PATH } from '../contract';

/**
 * Whether this instance is ready: not shutting down (load balancers then drain it) and its store
 * answers. The server reads a state a background check keeps (readiness.ts).
 */
export type Readiness = () => ReadyState | Promise<ReadyState>;

export function metricsHandler(metrics: HttpMetrics): RequestHandler {
  return async (req, res) => {
    const { contentType, body } = await metrics.render(negotiateFormat(req.headers.accept));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', contentType);
    res.setHeader('Content-Length', body.length);
    // Not res.send: it would hash the whole exposition for an ETag no scraper sends back.
    res.end(body);
  };
}

export function opsRoutes(group: RouteGroup, readiness: Readiness, metrics: HttpMetrics | undefined): void {
  group.route(HEALTH_PATH, { get: (_req, res) => void res.json({ status: 'ok' }) });
  group.route(READY_PATH, {
    get: async (_req, res) => {
      const state = await readiness();
      if (state.ready) res.json({ status: 'ready' });
      else sendProblem(res, 'unavailable', { detail: state.detail });
    },
  });
  if (metrics !== undefined) group.route(METRICS_PATH, { get: metricsHandler(metrics) });
}
