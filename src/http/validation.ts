/**
 * Request parsing: JSON bodies (content type checked first, size and nesting bounded) and zod
 * schemas whose failures become a 400 problem naming the offending fields (at most
 * MAX_FIELD_ERRORS of them, and how many more).
 */
import { isUtf8 } from 'node:buffer';
import express from 'express';
import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { MAX_FIELD_ERRORS, ProblemError, validationProblem } from './problems';
import type { FieldError } from './problems';
import { MAX_JSON_DEPTH, exceedsDepth } from './json-depth';
import { decodeEscapingInvalid, pathsWithEscapes } from './utf8';

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
      // body-parser reads a body to its end before answering 413: a client declaring 50 MB
      // would be read in full, or hold the connection while it stalls. Answer at once and
      // close, so the rest is never read.
      const declared = Number(req.headers['content-length']);
      if (declared > BODY_LIMIT_BYTES) {
        throw new ProblemError('payload_too_large', {
          detail: `the body is ${declared} bytes; at most ${BODY_LIMIT_BYTES} are accepted`,
          headers: { Connection: 'close' },
        });
      }
      next();
    },
    express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: JSON_TYPES, verify: verifyBody }),
  ];
}

/**
 * body-parser's `verify` hook, run before the body is parsed: refuses a body nested deeper than
 * MAX_JSON_DEPTH (parsing, validating and naming paths would otherwise cost depth × size), then
 * a body whose strings are not valid UTF-8, naming them.
 */
function verifyBody(_req: unknown, _res: unknown, buf: Buffer, encoding: string): void {
  if (encoding.toLowerCase() !== 'utf-8' && encoding.toLowerCase() !== 'utf8') return;
  if (exceedsDepth(buf, MAX_JSON_DEPTH)) {
    throw new ProblemError('body_too_deep', {
      detail: `the body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`,
      errors: [{ field: '(body)', in: 'body', pointer: '', detail: `must not nest more than ${MAX_JSON_DEPTH} levels deep` }],
    });
  }
  if (isUtf8(buf)) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeEscapingInvalid(buf));
  } catch {
    return; // not JSON either: the parser reports malformed_json
  }
  const { paths, omitted } = pathsWithEscapes(parsed, MAX_FIELD_ERRORS);
  const errors: FieldError[] = (paths.length > 0 ? paths : [[]]).map((path) => ({
    field: path.length === 0 ? '(body)' : path.map(String).join('.'),
    in: 'body',
    pointer: pointer(path),
    detail: 'must be valid UTF-8',
  }));
  throw validationProblem(errors, omitted);
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
  throw validationProblem(fieldErrors(result.error, location));
}
