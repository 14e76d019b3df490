/** Opens the store the configuration asks for: PostgreSQL when DATABASE_URL is set, else PGlite. */
import { mkdir } from 'node:fs/promises';
import type { Config } from '../config';
import { openPglite, openPostgres } from './driver';
import { SqlItemStore } from './sql-store';
import type { ItemStore } from './types';

export type { Item, ItemInput, ItemPatch, ItemStore, ItemPage } from './types';

export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolMax'>): Promise<ItemStore> {
  if (config.databaseUrl !== undefined) {
    return SqlItemStore.open(await openPostgres(config.databaseUrl, config.dbPoolMax));
  }
  await mkdir(config.dataDir, { recursive: true });
  return SqlItemStore.open(await openPglite(config.dataDir));
}
