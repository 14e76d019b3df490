/** The `items` resource: create, list (cursor-paginated), read, replace, patch, delete. */
import type { Request } from 'express';
import type { RouteGroup } from '../http/routing';
import { ProblemError } from '../http/problems';
import { jsonBody, parseWith } from '../http/validation';
import type { Item, ItemStore } from '../store';
import { encodeCursor, itemInput, itemPatch, listQuery } from './item-schemas';

function found(item: Item | undefined, req: Request): Item {
  if (item === undefined) {
    throw new ProblemError('item_not_found', {
      detail: `no item with id ${JSON.stringify(req.params.id)}`,
      errors: [{ field: 'id', in: 'path', detail: 'no item has this id' }],
    });
  }
  return item;
}

/** Defines the items routes in `group` (mounted at e.g. `/api/items`). */
export function itemRoutes(group: RouteGroup, store: ItemStore): void {
  group
    .route('/', {
      get: async (req, res) => {
        const query = parseWith(listQuery, req.query, 'query');
        const page = await store.list({ limit: query.limit, after: query.cursor });
        res.json({ items: page.items, nextCursor: page.next === undefined ? null : encodeCursor(page.next) });
      },
      post: [
        ...jsonBody(),
        async (req, res) => {
          const item = await store.create(parseWith(itemInput, req.body, 'body'));
          res.status(201).location(`${group.prefix}/${item.id}`).json(item);
        },
      ],
    })
    .route('/:id', {
      get: async (req, res) => {
        res.json(found(await store.get(req.params.id as string), req));
      },
      put: [
        ...jsonBody(),
        async (req, res) => {
          const input = parseWith(itemInput, req.body, 'body');
          res.json(found(await store.replace(req.params.id as string, input), req));
        },
      ],
      patch: [
        ...jsonBody(),
        async (req, res) => {
          const patch = parseWith(itemPatch, req.body, 'body');
          res.json(found(await store.update(req.params.id as string, patch), req));
        },
      ],
      delete: async (req, res) => {
        if (!(await store.delete(req.params.id as string))) found(undefined, req);
        res.status(204).end();
      },
    });
}
