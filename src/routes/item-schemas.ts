/** What a valid item request looks like; every rule names the field it guards. */
import { z } from 'zod';

export const NAME_MAX = 200;
export const DESCRIPTION_MAX = 2000;
export const TAGS_MAX = 20;
export const TAG_MAX = 100;
export const PAGE_SIZE_DEFAULT = 20;
export const PAGE_SIZE_MAX = 100;

/** Length in Unicode code points, so an emoji counts as one character (as `[...s].length`, without the copy). */
function length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * A string PostgreSQL can store exactly as sent: well-formed Unicode (a lone surrogate would be
 * silently replaced) and no NUL character (text columns cannot hold one). The refinements are
 * code; `meta` states the same limits as JSON Schema (whose lengths count code points too) for
 * the API description, so the two cannot be far apart.
 */
const text = (min: number, max: number) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .refine((s) => s.isWellFormed(), 'must be well-formed Unicode (no lone surrogates)')
    .refine((s) => !s.includes('\u0000'), 'must not contain the NUL character')
    // A string has at most as many code points as UTF-16 units, and at least one if it has any.
    .refine((s) => (min <= 1 ? s.length >= min : length(s) >= min), min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .refine((s) => s.length <= max || length(s) <= max, `must be at most ${max} characters`)
    .meta({ minLength: min, maxLength: max, pattern: '^[^\\u0000]*$' });

const name = text(1, NAME_MAX)
  .refine((s) => s.trim() !== '', 'must not be blank')
  .meta({ pattern: '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$' });
const description = text(0, DESCRIPTION_MAX);
const tags = z
  .array(text(1, TAG_MAX), { error: 'must be an array of strings' })
  .max(TAGS_MAX, `must have at most ${TAGS_MAX} tags`)
  .superRefine((list, ctx) => {
    list.forEach((tag, i) => {
      if (list.indexOf(tag) !== i) ctx.addIssue({ code: 'custom', path: [i], message: 'duplicates an earlier tag' });
    });
  })
  .meta({ uniqueItems: true });

const object = { error: 'request body must be a JSON object' };

/** POST and PUT: a whole item. */
export const itemInput = z.strictObject({ name, description: description.nullable().optional(), tags: tags.optional() }, object);

/** PATCH (JSON merge patch): any subset; `description: null` clears the description. */
export const itemPatch = z.strictObject(
  {
    name: name.optional(),
    description: description.nullable().optional(),
    tags: tags.optional(),
  },
  object,
);

const CURSOR = /^[A-Za-z0-9_-]{1,32}$/;
/** Positions are PostgreSQL bigints; a larger cursor cannot come from this API. */
const POSITION_MAX = 2n ** 63n - 1n;

export function encodeCursor(position: bigint): string {
  return Buffer.from(position.toString()).toString('base64url');
}

export const listQuery = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(PAGE_SIZE_MAX, `must be at most ${PAGE_SIZE_MAX}`)
    .default(PAGE_SIZE_DEFAULT),
  cursor: z
    .string({ error: 'must be given once' })
    .meta({ pattern: CURSOR.source, description: 'the `nextCursor` of the previous page' })
    .transform((value, ctx) => {
      const decoded = CURSOR.test(value) ? Buffer.from(value, 'base64url').toString() : '';
      if (!/^[1-9]\d{0,18}$/.test(decoded) || BigInt(decoded) > POSITION_MAX) {
        ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
        return z.NEVER;
      }
      return BigInt(decoded);
    })
    .optional(),
});

/** An item as the API answers it; the same field rules as the requests. */
export const item = z.strictObject({
  id: z.uuid(),
  name,
  description: description.nullable(),
  tags,
  createdAt: z.string().meta({ format: 'date-time' }),
  updatedAt: z.string().meta({ format: 'date-time' }),
});

/** A page of GET /api/items. */
export const itemPage = z.strictObject({
  items: z.array(item).max(PAGE_SIZE_MAX),
  nextCursor: z.string().regex(CURSOR).nullable().meta({ description: 'pass back as `cursor` for the next page; null on the last page' }),
});
