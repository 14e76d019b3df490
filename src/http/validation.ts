/**
 * Request parsing: JSON bodies (content type checked first, size bounded) and zod schemas whose
 * failures become a 400 problem listing every offending field.
 */
import express from 'express';
import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { ProblemError } from './problems';
import type { FieldError } from './problems';

/** Largest accepted request body. The largest valid item is far below this. */
export const BODY_LIMIT_BYTES = 100 * 1024;

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Handlers that accept only a JSON body (415 otherwise) and parse it (400 / 413 on failure). */
export function jsonBody(): RequestHandler[] {
  return [
    (req, _res, next) => {
      // `is` is null when the request has no body; the schema then reports the missing fields.
      if (req.is(JSON_TYPES) === false) {
        throw new ProblemError('unsupported_media_type', {
          detail: `Content-Type must be application/json, not ${JSON.stringify(req.headers['content-type'] ?? '')}`,
          errors: [{ field: 'content-type', in: 'header', detail: 'must be application/json' }],
        });
      }
      next();
    },
    express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: JSON_TYPES }),
  ];
}

function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => '/' + String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

export function fieldErrors(error: z.ZodError, location: FieldError['in']): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    return keys.map((path) => ({
      field: path.length === 0 ? (location === 'body' ? '(body)' : '(query)') : path.map(String).join('.'),
      in: location,
      ...(location === 'body' && { pointer: pointer(path) }),
      detail: issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message,
    }));
  });
}

/** Parses `input` with `schema` or throws a validation problem naming each bad field. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, location: FieldError['in']): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error, location);
  throw new ProblemError('validation_failed', {
    detail: errors.map((e) => `${e.field}: ${e.detail}`).join('; '),
    errors,
  });
}
