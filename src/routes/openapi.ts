/**
 * GET /openapi.json: the API description, built once at start-up from the validation schemas
 * (src/openapi/document.ts). An operational route: not counted in the HTTP metrics.
 */
import type { RouteGroup } from '../http/routing';
import { OPENAPI_PATH } from '../contract';
import { openApiDocument } from '../openapi/document';

export function openApiRoutes(group: RouteGroup): void {
  const body = JSON.stringify(openApiDocument());
  group.route(OPENAPI_PATH, {
    get: (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('application/json; charset=utf-8').send(body);
    },
  });
}
