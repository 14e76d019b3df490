/**
 * An ItemStore that exists before the database is reachable: the server listens (and reports
 * not ready) while the store is still being opened, and requests meanwhile answer 503.
 */
import { StoreUnavailableError } from './errors';
import type { Item, ItemInput, ItemPage, ItemPatch, ItemStore, ListOptions } from './types';

export class DeferredStore implements ItemStore {
  private store: ItemStore | undefined;

  constructor(readonly kind: ItemStore['kind']) {}

  /** The store to delegate to from now on. */
  resolve(store: ItemStore): void {
    this.store = store;
  }

  private get open(): ItemStore {
    if (this.store === undefined) throw new StoreUnavailableError('not_open');
    return this.store;
  }

  create(input: ItemInput): Promise<Item> {
    return this.open.create(input);
  }
  get(id: string): Promise<Item | undefined> {
    return this.open.get(id);
  }
  list(options: ListOptions): Promise<ItemPage> {
    return this.open.list(options);
  }
  replace(id: string, input: ItemInput): Promise<Item | undefined> {
    return this.open.replace(id, input);
  }
  update(id: string, patch: ItemPatch): Promise<Item | undefined> {
    return this.open.update(id, patch);
  }
  delete(id: string): Promise<boolean> {
    return this.open.delete(id);
  }
  async ping(): Promise<void> {
    await this.open.ping();
  }
  async close(): Promise<void> {
    await this.store?.close();
  }
}
