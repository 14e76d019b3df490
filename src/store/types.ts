/** The items store as the routes see it: a small interface with two PostgreSQL back ends. */

export interface Item {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ItemInput {
  readonly name: string;
  readonly description?: string | null;
  readonly tags?: readonly string[];
}

/** Fields absent are left as they are; `description: null` clears it. */
export type ItemPatch = Partial<ItemInput>;

export interface ListOptions {
  readonly limit: number;
  /** Position after which to continue, from a previous page's `next`. */
  readonly after?: bigint;
}

export interface ItemPage {
  readonly items: readonly Item[];
  /** Position to pass as `after` for the next page; undefined on the last page. */
  readonly next?: bigint;
}

export interface ItemStore {
  /** Which back end this is, for logs. */
  readonly kind: 'pglite' | 'postgres';
  create(input: ItemInput): Promise<Item>;
  get(id: string): Promise<Item | undefined>;
  list(options: ListOptions): Promise<ItemPage>;
  replace(id: string, input: ItemInput): Promise<Item | undefined>;
  update(id: string, patch: ItemPatch): Promise<Item | undefined>;
  delete(id: string): Promise<boolean>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
