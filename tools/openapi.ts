/**
 * `npm run openapi`: writes docs/openapi.json, the API description the service serves at
 * /openapi.json, so it can be read and reviewed in the repository. Never edited by hand; a test
 * fails when it is stale.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openApiDocument } from '../src/openapi/document';
import { runMain } from './lib/main';

/** docs/openapi.json of the source tree (this file runs from build/tools/). */
export const OPENAPI_FILE = join(__dirname, '..', '..', 'docs', 'openapi.json');

/** The document as committed: two-space JSON and a final newline, as Prettier writes it. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  runMain('openapi', async () => {
    await writeFile(OPENAPI_FILE, openApiText());
    process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
  });
}
