/**
 * Route definition that knows each route's full template. A RouteGroup carries the template of
 * its mount point, so every route's `endpoint` label (prefix included, parameters as `:name`)
 * is a constant computed once, at definition. Groups define their routes on the same router
 * with the full template (Express reads every parameter from it), so a group costs no extra
 * routing layer. The route tags the response as soon as it matches, before any body parsing,
 * so requests rejected by a parser still count against the route they were sent to. Methods a
 * path does not support get 405 with `Allow`.
 */
import type { ErrorRequestHandler, IRouter, NextFunction, Request, RequestHandler, Response } from 'express';
import { match } from 'path-to-regexp';
import type { MatchFunction } from 'path-to-regexp';
import { ProblemError, sendProblem } from './problems';

export const ROUTE_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];
export type RouteSpec = Partial<Record<RouteMethod, RequestHandler | readonly RequestHandler[]>>;

export interface RouteOptions {
  /** Run after a route has matched and been tagged, before the method's handlers. */
  readonly before?: readonly RequestHandler[];
  /** Told about each (method, full template) pair as it is defined. */
  readonly onRoute?: (method: string, endpoint: string) => void;
  /** Whether the HTTP metrics and the access log count these routes' requests. @default true */
  readonly counted?: boolean;
}

/** Allowed methods of a path, as the `Allow` header lists them. */
export function allowedMethods(spec: RouteSpec): string[] {
  const allowed = ROUTE_METHODS.filter((m) => spec[m] !== undefined).map((m) => m.toUpperCase());
  if (allowed.includes('GET')) allowed.splice(allowed.indexOf('GET') + 1, 0, 'HEAD');
  return [...allowed, 'OPTIONS'];
}

/** `handler`, but first recording `endpoint` as the request's route label (or that it is not counted). */
function tagged(endpoint: string, handler: RequestHandler, counted = true): RequestHandler {
  if (!counted) {
    return (req: Request, res: Response, next: NextFunction) => {
      res.locals.counted = false;
      return handler(req, res, next);
    };
  }
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.endpoint = endpoint;
    return handler(req, res, next);
  };
}

/** A route template with a matcher that does not decode, so malformed encoding still matches. */
interface RawRoute {
  readonly endpoint: string;
  readonly match: MatchFunction<Partial<Record<string, string | string[]>>>;
}

function undecodable(value: string): boolean {
  try {
    decodeURIComponent(value);
    return false;
  } catch {
    return true;
  }
}

export class RouteGroup {
  /** Every route defined through this group and the groups made from it. */
  private readonly routes: RawRoute[];

  /**
   * @param router where routes are defined (an app or a Router)
   * @param prefix template every route of the group starts with, e.g. `/api/users/:userId` @default ''
   */
  constructor(
    readonly router: IRouter,
    readonly prefix: string = '',
    private readonly options: RouteOptions = {},
    routes: RawRoute[] = [],
  ) {
    this.routes = routes;
  }

  /** A group of routes under `template` (parameters allowed; handlers see them in req.params). */
  group(template: string): RouteGroup {
    return new RouteGroup(this.router, this.prefix + template, this.options, this.routes);
  }

  /**
   * Handles the router's failure to percent-decode a path parameter (`/api/items/%zz`): it
   * happens while matching, before any handler tags the request, and carries no `expose`. The
   * answer is a 400 naming the parameter, counted against the route the path was sent to.
   */
  pathDecodeErrors(): ErrorRequestHandler {
    return (err: unknown, req, res, next) => {
      if (!(err instanceof URIError)) return next(err);
      for (const route of this.routes) {
        const found = route.match(req.path);
        if (found === false) continue;
        res.locals.endpoint = route.endpoint;
        const names = Object.entries(found.params)
          .filter(([, v]) => (Array.isArray(v) ? v : [v ?? '']).some(undecodable))
          .map(([name]) => name);
        return next(
          new ProblemError('validation_failed', {
            detail: names.map((n) => `${n}: is not valid percent-encoding`).join('; '),
            errors: names.map((field) => ({ field, in: 'path' as const, detail: 'is not valid percent-encoding' })),
          }),
        );
      }
      next(new ProblemError('bad_request', { detail: 'the path is not valid percent-encoding' }));
    };
  }

  /** Defines `path` with the handlers of `spec`; any other method gets 405 (OPTIONS gets 204). */
  route(path: string, spec: RouteSpec): this {
    // A group's root route is its prefix itself: `/api/items`, not `/api/items/`.
    const endpoint = path === '/' && this.prefix !== '' ? this.prefix : this.prefix + path;
    const allow = allowedMethods(spec).join(', ');
    const route = this.router.route(endpoint);
    this.routes.push({ endpoint, match: match(endpoint, { decode: false }) });
    for (const method of ROUTE_METHODS) {
      const handlers = spec[method];
      if (handlers === undefined) continue;
      const own: readonly RequestHandler[] = typeof handlers === 'function' ? [handlers] : handlers;
      const chain = [...(this.options.before ?? []), ...own];
      chain[0] = tagged(endpoint, chain[0]!, this.options.counted);
      route[method](...chain);
      this.options.onRoute?.(method.toUpperCase(), endpoint);
    }
    route.all(
      tagged(
        endpoint,
        (req, res) => {
          if (req.method === 'OPTIONS') {
            res.setHeader('Allow', allow);
            res.status(204).end();
            return;
          }
          sendProblem(res, 'method_not_allowed', {
            detail: `${req.method} is not supported on ${endpoint}; use one of ${allow}`,
            headers: { Allow: allow },
          });
        },
        this.options.counted,
      ),
    );
    return this;
  }
}
