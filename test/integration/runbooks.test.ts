import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT, runbookUrl } from '../../k8s/alerts';
import { DEFAULT_RUNBOOK_BASE_URL } from '../../k8s/config';
import { SLO_ALERT } from '../../k8s/burn-rates';
import { findRunbooks } from '../../src/routes/runbooks';
import { startApp } from '../helpers/app';
import type { RunningApp } from '../helpers/app';

const RUNBOOKS = join(__dirname, '..', '..', 'docs', 'runbooks.md');
/** The anchor a Markdown renderer (GitHub, GitLab) gives a `## Heading`. */
const anchors = new Set(
  [...readFileSync(RUNBOOKS, 'utf8').matchAll(/^## (.+)$/gm)].map((m) =>
    m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\w\s-]/g, '')
      .replace(/\s+/g, '-'),
  ),
);

describe('the runbooks', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('are served by the API at /runbooks, exactly docs/runbooks.md', async () => {
    const res = await fetch(`${app.url}/runbooks`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(await res.text()).toBe(readFileSync(RUNBOOKS, 'utf8'));
  });

  it('are not counted in the HTTP metrics, like the other operational endpoints', async () => {
    await fetch(`${app.url}/runbooks`);
    expect(await (await fetch(`${app.url}/metrics`)).text()).not.toContain('endpoint="/runbooks"');
  });

  it('are found from the source tree and from the build output', () => {
    expect(findRunbooks(join(__dirname, '..', '..', 'src', 'routes'))).toBe(RUNBOOKS);
    expect(findRunbooks(join(__dirname, '..', '..', 'build', 'src', 'routes'))).toBe(RUNBOOKS);
  });

  it.each([...Object.values(ALERT), ...Object.values(SLO_ALERT)])('have a section that %s links to', (alert) => {
    const url = runbookUrl(DEFAULT_RUNBOOK_BASE_URL, alert);
    expect(url.startsWith('http://localhost:8080/runbooks#')).toBe(true);
    expect(anchors).toContain(url.split('#')[1]);
  });
});
