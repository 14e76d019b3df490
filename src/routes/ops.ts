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

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';
export const METRICS_PATH = '/metrics';

/** Readiness waits at most this long for the store before answering 503. */
const READY_TIMEOUT_MS = 2_000;

export interface Readiness {
  /** True once shutdown has begun: readiness answers 503 so load balancers drain this pod. */
  isShuttingDown(): boolean;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
}

export function metricsHandler(metrics: HttpMetrics): RequestHandler {
  return async (req, res) => {
    const { contentType, body } = await metrics.render(negotiateFormat(req.headers.accept));
    res.setHeader('Cache-Control', 'no-store');
    res.type(contentType).send(body);
  };
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function opsRoutes(group: RouteGroup, readiness: Readiness, metrics: HttpMetrics | undefined): void {
  group.route(HEALTH_PATH, { get: (_req, res) => void res.json({ status: 'ok' }) });
  group.route(READY_PATH, {
    get: async (req, res) => {
      if (readiness.isShuttingDown()) {
        sendProblem(res, 'unavailable', { detail: 'shutting down' });
        return;
      }
      try {
        await withTimeout(readiness.ping(), READY_TIMEOUT_MS);
        res.json({ status: 'ready' });
      } catch (err) {
        req.log?.warn({ err }, 'readiness check failed: store unreachable');
        sendProblem(res, 'unavailable', { detail: 'store unreachable' });
      }
    },
  });
  if (metrics !== undefined) group.route(METRICS_PATH, { get: metricsHandler(metrics) });
}
