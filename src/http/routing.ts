/**
 * Route definition that knows each route's full template. A RouteGroup carries the template of
 * its mount point, so every route's `endpoint` label (prefix included, parameters as `:name`)
 * is a constant computed once, at definition. Groups define their routes on the same router
 * with the full template (Express reads every parameter from it), so a group costs no extra
 * routing layer. The route tags the response as soon as it matches, before any body parsing,
 * so requests rejected by a parser still count against the route they were sent to. Methods a
 * path does not support get 405 with `Allow`.
 */
import type { IRouter, NextFunction, Request, RequestHandler, Response } from 'express';
import { sendProblem } from './problems';

export const ROUTE_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];
export type RouteSpec = Partial<Record<RouteMethod, RequestHandler | readonly RequestHandler[]>>;

export interface RouteOptions {
  /** Run after a route has matched and been tagged, before the method's handlers. */
  readonly before?: readonly RequestHandler[];
  /** Told about each (method, full template) pair as it is defined. */
  readonly onRoute?: (method: string, endpoint: string) => void;
}

/** Allowed methods of a path, as the `Allow` header lists them. */
export function allowedMethods(spec: RouteSpec): string[] {
  const allowed = ROUTE_METHODS.filter((m) => spec[m] !== undefined).map((m) => m.toUpperCase());
  if (allowed.includes('GET')) allowed.splice(allowed.indexOf('GET') + 1, 0, 'HEAD');
  return [...allowed, 'OPTIONS'];
}

/** `handler`, but first recording `endpoint` as the request's route label. */
function tagged(endpoint: string, handler: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.endpoint = endpoint;
    return handler(req, res, next);
  };
}

export class RouteGroup {
  /**
   * @param router where routes are defined (an app or a Router)
   * @param prefix template every route of the group starts with, e.g. `/api/users/:userId` @default ''
   */
  constructor(
    readonly router: IRouter,
    readonly prefix: string = '',
    private readonly options: RouteOptions = {},
  ) {}

  /** A group of routes under `template` (parameters allowed; handlers see them in req.params). */
  group(template: string): RouteGroup {
    return new RouteGroup(this.router, this.prefix + template, this.options);
  }

  /** Defines `path` with the handlers of `spec`; any other method gets 405 (OPTIONS gets 204). */
  route(path: string, spec: RouteSpec): this {
    // A group's root route is its prefix itself: `/api/items`, not `/api/items/`.
    const endpoint = path === '/' && this.prefix !== '' ? this.prefix : this.prefix + path;
    const allow = allowedMethods(spec).join(', ');
    const route = this.router.route(endpoint);
    for (const method of ROUTE_METHODS) {
      const handlers = spec[method];
      if (handlers === undefined) continue;
      const chain = [...(this.options.before ?? []), ...(Array.isArray(handlers) ? handlers : [handlers as RequestHandler])];
      chain[0] = tagged(endpoint, chain[0]!);
      route[method](...chain);
      this.options.onRoute?.(method.toUpperCase(), endpoint);
    }
    route.all(
      tagged(endpoint, (req, res) => {
        if (req.method === 'OPTIONS') {
          res.setHeader('Allow', allow);
          res.status(204).end();
          return;
        }
        sendProblem(res, 'method_not_allowed', {
          detail: `${req.method} is not supported on ${endpoint}; use one of ${allow}`,
          headers: { Allow: allow },
        });
      }),
    );
    return this;
  }
}
