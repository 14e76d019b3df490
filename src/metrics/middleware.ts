/**
 * Records every timed request of an Express app into HttpMetrics: timing starts in the app's
 * first middleware (`startTiming`, after `instrumentResponses`) or at the layer `useHttpMetrics`
 * mounts. The `endpoint` label is the route template the routing layer stored in `res.locals.endpoint` (see
 * http/routing.ts), never the raw URL; requests that matched no route share UNMATCHED_ENDPOINT.
 *
 * The request is recorded when its response ends, through `end` on the app's own response
 * prototype (`app.response`, Express's extension point): no listener, closure or key string is
 * allocated per request, and no property is added to the response (only the start time is kept,
 * in `res.locals`). The same hook writes the access log.
 */
import type { Express, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { CLIENT_CLOSED_STATUS, KNOWN_METHODS, OTHER_METHOD, UNMATCHED_ENDPOINT } from '../contract';
import { logRequest } from '../http/access-log';
import type { HttpMetrics } from './registry';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Route template of the matched route, mount prefix included. */
    endpoint?: string;
    /** `performance.now()` when timing began; cleared once the request is recorded. */
    started?: number;
    /** False for requests the HTTP metrics and the access log leave out (operational routes). */
    counted?: boolean;
  }
}

const knownMethods = new Set(KNOWN_METHODS);
const RECORDER = Symbol('metrics.recorder');

/** Where a finished request goes: one per app, kept on the app's response prototype. */
interface Recorder {
  readonly metrics: HttpMetrics;
  readonly logger: Logger | undefined;
}

type Recorded = Response & { [RECORDER]?: Recorder };

/** The response prototype as patched here: `end` is a plain function property, called with the response as `this`. */
interface ResponseProto {
  end: (this: Response, ...args: unknown[]) => Response;
  [RECORDER]?: Recorder;
}

export function foldMethod(method: string | undefined): string {
  return method !== undefined && knownMethods.has(method) ? method : OTHER_METHOD;
}

function record(res: Recorded): void {
  const locals = res.locals;
  // Not timed (an operational route, or before timing began), or already recorded.
  if (locals === undefined || locals.started === undefined || locals.counted === false) return;
  const ms = performance.now() - locals.started;
  locals.started = undefined;
  // A response ending on a destroyed socket: the client went away before it was sent.
  const status = res.destroyed ? CLIENT_CLOSED_STATUS : res.statusCode;
  const { metrics, logger } = res[RECORDER]!;
  metrics.observe(foldMethod(res.req.method), locals.endpoint ?? UNMATCHED_ENDPOINT, status, ms / 1000);
  if (logger !== undefined) logRequest(logger, res, status, ms);
}

/**
 * Records every timed request of `app` (see startTiming) when its response ends, in `metrics`
 * and, given a logger, in the access log. Requests of routes tagged `counted: false` (health
 * probes, /metrics) are neither counted nor logged.
 */
export function instrumentResponses(app: Express, metrics: HttpMetrics, logger?: Logger): void {
  const proto = app.response as ResponseProto;
  if (proto[RECORDER] === undefined) {
    const end = proto.end;
    proto.end = function (this: Recorded, ...args: unknown[]) {
      record(this);
      return end.apply(this, args);
    };
  }
  proto[RECORDER] = { metrics, logger };
}

/** Starts timing a request of an instrumented app: call it first thing (no routing layer of its own). */
export function startTiming(res: Response): void {
  res.locals.started = performance.now();
}

/**
 * instrumentResponses, with a middleware at this point of `app` that times every request that
 * reaches it: handlers mounted before it are neither counted nor logged.
 */
export function useHttpMetrics(app: Express, metrics: HttpMetrics, logger?: Logger): void {
  instrumentResponses(app, metrics, logger);
  const timer: RequestHandler = (_req, res, next) => {
    startTiming(res);
    next();
  };
  app.use(timer);
}
