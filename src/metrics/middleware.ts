/**
 * Express middleware that records every request it sees into HttpMetrics. The `endpoint` label
 * is the route template the routing layer stored in `res.locals.endpoint` (see http/routing.ts),
 * never the raw URL; requests that matched no route share UNMATCHED_ENDPOINT.
 *
 * Per request it allocates nothing but the start time: one shared listener, no closure.
 */
import type { RequestHandler, Response } from 'express';
import { CLIENT_CLOSED_STATUS, KNOWN_METHODS, OTHER_METHOD, UNMATCHED_ENDPOINT } from './names';
import type { HttpMetrics } from './registry';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Route template of the matched route, mount prefix included. */
      endpoint?: string;
    }
  }
}

const knownMethods = new Set(KNOWN_METHODS);
const STARTED = Symbol('metrics.started');
const METRICS = Symbol('metrics.registry');

type Timed = Response & { [STARTED]?: number; [METRICS]?: HttpMetrics };

export function foldMethod(method: string | undefined): string {
  return method !== undefined && knownMethods.has(method) ? method : OTHER_METHOD;
}

/**
 * 'close' follows 'finish' for every completed response, and comes alone when the client went
 * away first; then the request is recorded as CLIENT_CLOSED_STATUS.
 */
function onClose(this: Timed): void {
  const seconds = (performance.now() - this[STARTED]!) / 1000;
  const status = this.writableFinished ? this.statusCode : CLIENT_CLOSED_STATUS;
  this[METRICS]!.observe(foldMethod(this.req.method), this.locals.endpoint ?? UNMATCHED_ENDPOINT, status, seconds);
}

export function httpMetricsMiddleware(metrics: HttpMetrics): RequestHandler {
  return (_req, res, next) => {
    const timed = res as Timed;
    timed[STARTED] = performance.now();
    timed[METRICS] = metrics;
    // `on`, not `once`: 'close' is emitted once, and `once` would allocate a wrapper per request.
    res.on('close', onClose);
    next();
  };
}
