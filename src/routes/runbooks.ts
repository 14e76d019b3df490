/**
 * GET /runbooks: the on-call runbooks (docs/runbooks.md) served by the API itself, so that every
 * alert's runbook_url resolves wherever the API is reached, with no other host to run. Read
 * once at start-up; not counted in the HTTP metrics, like the other operational endpoints.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sendProblem } from '../http/problems';
import type { RouteGroup } from '../http/routing';
import { RUNBOOKS_PATH } from '../contract';

const RUNBOOKS_FILE = join('docs', 'runbooks.md');

/** docs/runbooks.md of the nearest folder up from here that has one (source tree, build output or image). */
export function findRunbooks(from: string = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, RUNBOOKS_FILE))) return join(dir, RUNBOOKS_FILE);
    if (dirname(dir) === dir) return undefined;
  }
}

export function runbookRoutes(group: RouteGroup, file: string | undefined = findRunbooks()): void {
  const text = file === undefined ? undefined : readFileSync(file, 'utf8');
  group.route(RUNBOOKS_PATH, {
    get: (_req, res) => {
      if (text === undefined) {
        sendProblem(res, 'route_not_found', { detail: 'the runbooks are not installed with this build' });
        return;
      }
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('text/markdown; charset=utf-8').send(text);
    },
  });
}
