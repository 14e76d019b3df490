/**
 * The reliability suite's short mode (`npm run reliability -- --short`) against the built server,
 * on the embedded store and on PostgreSQL (TEST_DATABASE_URL): every scenario must pass.
 */
import { join } from 'node:path';
import { PROJECT_ROOT, runProcess } from '../../tools/lib/processes';
import { requirePostgresInCi, TEST_DATABASE_URL } from '../helpers/postgres';

jest.setTimeout(180_000);

function runShort(stores: string): Promise<{ code: number | null; output: string }> {
  return runProcess(
    'reliability',
    process.execPath,
    [join(PROJECT_ROOT, 'build', 'tools', 'reliability.js'), '--short', '--stores', stores],
    {
      env: TEST_DATABASE_URL === undefined ? {} : { TEST_DATABASE_URL },
      timeoutMs: 170_000,
    },
  );
}

it('passes every scenario of the short reliability run on both stores', async () => {
  requirePostgresInCi();
  const stores = TEST_DATABASE_URL === undefined ? 'pglite' : 'pglite,postgres';
  const { code, output } = await runShort(stores);
  process.stdout.write(`${output}\n`);
  expect(output).toMatch(/\| hostile requests tried \/ answered 5xx \/ 5xx in \/metrics \| 400 \/ 0 \/ 0 \|/);
  expect(output).not.toContain('FAIL');
  expect(output).toContain('all scenarios passed');
  expect(code).toBe(0);
});
