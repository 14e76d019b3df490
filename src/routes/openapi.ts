/**
 * GET /openapi.json: the API description, built once (on the first request) from the validation schemas
 * (src/openapi/document.ts). An operational route: not counted in the HTTP metrics.
 */
import type { RouteGroup } from '../http/routing';
import { OPENAPI_PATH } from '../contract';
import { openApiDocument } from '../openapi/document';

export function openApiRoutes(group: RouteGroup): void {
  // Built on the first request, not at start: a start does not wait for it.
  let body: string | undefined;
  group.route(OPENAPI_PATH, {
    get: (_req, res) => {
      body ??= JSON.stringify(openApiDocument());
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('application/json; charset=utf-8').send(body);
    },
  });
}
