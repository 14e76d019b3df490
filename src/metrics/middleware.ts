/**
 * Express middleware that records every request it sees into HttpMetrics. The `endpoint` label
 * is the route template the routing layer stored in `res.locals.endpoint` (see http/routing.ts),
 * never the raw URL; requests that matched no route share UNMATCHED_ENDPOINT.
 */
import type { RequestHandler } from 'express';
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

export function foldMethod(method: string | undefined): string {
  return method !== undefined && knownMethods.has(method) ? method : OTHER_METHOD;
}

export function httpMetricsMiddleware(metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // 'close' before 'finish' means the client went away before the response was complete.
      const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS;
      metrics.observe(foldMethod(req.method), res.locals.endpoint ?? UNMATCHED_ENDPOINT, status, seconds);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}
