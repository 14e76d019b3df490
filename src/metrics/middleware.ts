/**
 * Records every request an Express app serves after `useHttpMetrics` into HttpMetrics. The
 * `endpoint` label is the route template the routing layer stored in `res.locals.endpoint` (see
 * http/routing.ts), never the raw URL; requests that matched no route share UNMATCHED_ENDPOINT.
 *
 * The request is recorded when its response ends, through `end` on the app's own response
 * prototype (`app.response`, Express's extension point): no listener, closure or key string is
 * allocated per request, only the start time is stored. The same hook writes the access log.
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
  }
}

const knownMethods = new Set(KNOWN_METHODS);
const STARTED = Symbol('metrics.started');
const RECORDER = Symbol('metrics.recorder');
const INSTRUMENTED = Symbol('metrics.instrumented');

/** Where a finished request goes: one per app, shared by its requests. */
interface Recorder {
  readonly metrics: HttpMetrics;
  readonly logger: Logger | undefined;
}

type Timed = Response & { [STARTED]?: number; [RECORDER]?: Recorder };

/** The response prototype as patched here: `end` is a plain function property, called with the response as `this`. */
interface ResponseProto {
  end: (this: Response, ...args: unknown[]) => Response;
  [INSTRUMENTED]?: boolean;
}

export function foldMethod(method: string | undefined): string {
  return method !== undefined && knownMethods.has(method) ? method : OTHER_METHOD;
}

function record(res: Timed): void {
  const started = res[STARTED];
  if (started === undefined) return; // not timed (before the middleware), or already recorded
  res[STARTED] = undefined;
  const ms = performance.now() - started;
  // A response ending on a destroyed socket: the client went away before it was sent.
  const status = res.destroyed ? CLIENT_CLOSED_STATUS : res.statusCode;
  const { metrics, logger } = res[RECORDER]!;
  metrics.observe(foldMethod(res.req.method), res.locals.endpoint ?? UNMATCHED_ENDPOINT, status, ms / 1000);
  if (logger !== undefined) logRequest(logger, res, status, ms);
}

/**
 * Times every request that reaches this point of `app` and records it when its response ends,
 * in `metrics` and, given a logger, in the access log. Handlers mounted before it (health
 * probes, /metrics) are neither counted nor logged.
 */
export function useHttpMetrics(app: Express, metrics: HttpMetrics, logger?: Logger): void {
  const recorder: Recorder = { metrics, logger };
  const proto = app.response as ResponseProto;
  if (proto[INSTRUMENTED] !== true) {
    const end = proto.end;
    proto.end = function (this: Timed, ...args: unknown[]) {
      record(this);
      return end.apply(this, args);
    };
    proto[INSTRUMENTED] = true;
  }
  const timer: RequestHandler = (_req, res, next) => {
    const timed = res as Timed;
    timed[STARTED] = performance.now();
    timed[RECORDER] = recorder;
    next();
  };
  app.use(timer);
}
