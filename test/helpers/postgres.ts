/**
 * The real PostgreSQL server the store suite runs against, from TEST_DATABASE_URL (CI starts
 * one with scripts/test-postgres.sh). Each suite gets its own database, dropped afterwards.
 */
import { scratchDatabase } from '../../tools/lib/pg-server';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (TEST_DATABASE_URL === undefined) throw new Error('TEST_DATABASE_URL is not set');
  return scratchDatabase(TEST_DATABASE_URL, 'items_test');
}

/** Says loudly that the PostgreSQL half of a suite did not run; in CI that is a failure. */
export function requirePostgresInCi(): void {
  if (TEST_DATABASE_URL !== undefined) return;
  if (process.env.CI) throw new Error('CI must run the PostgreSQL suite: set TEST_DATABASE_URL');
  process.stderr.write(
    '\n*** SKIPPED: the PostgreSQL store tests (TEST_DATABASE_URL is not set). ' +
      'Start a server with: eval "$(scripts/test-postgres.sh start)" ***\n\n',
  );
}
