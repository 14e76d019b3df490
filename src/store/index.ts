/** Opens the store the configuration asks for: PostgreSQL when DATABASE_URL is set, else PGlite. */
import { mkdir } from 'node:fs/promises';
import type { Config } from '../config';
import { openPglite, openPostgres } from './driver';
import { SqlItemStore } from './sql-store';
import type { ItemStore } from './types';

export type { Item, ItemInput, ItemPatch, ItemStore, ItemPage } from './types';
export { StoreUnavailableError } from './errors';

export type StoreConfig = Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolMax'> &
  Partial<Pick<Config, 'dbPoolWaitMs' | 'dbStatementTimeoutMs'>>;

export async function openStore(config: StoreConfig, onPoolError?: (err: Error) => void): Promise<ItemStore> {
  if (config.databaseUrl !== undefined) {
    const driver = await openPostgres(config.databaseUrl, config.dbPoolMax, {
      poolWaitMs: config.dbPoolWaitMs,
      statementTimeoutMs: config.dbStatementTimeoutMs,
      onPoolError,
    });
    try {
      return await SqlItemStore.open(driver);
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw err;
    }
  }
  await mkdir(config.dataDir, { recursive: true });
  return SqlItemStore.open(await openPglite(config.dataDir));
}
