/**
 * Problem details (RFC 9457) as zod schemas, for the API description: the shape sendProblem()
 * renders, with the catalogue's codes.
 */
import { z } from 'zod';
import { MAX_FIELD_ERRORS, PROBLEMS } from '../http/problems';
import type { FieldError } from '../http/problems';

/** Every code a problem can carry, with its status (the catalogue's). */
export const PROBLEM_STATUS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(PROBLEMS).map(([code, p]) => [code, p.status]),
);

const LOCATIONS = ['body', 'query', 'header', 'path'] as const satisfies readonly FieldError['in'][];

export const fieldError = z
  .strictObject({
    field: z.string().meta({ description: 'dotted path of the field (`tags.3`), or the parameter or header name' }),
    in: z.enum(LOCATIONS),
    pointer: z.string().optional().meta({ description: 'JSON Pointer (RFC 6901) into the body, for body fields' }),
    detail: z.string(),
  })
  .meta({ description: 'One offending part of a request.' });

export const problem = z
  .strictObject({
    type: z.string().regex(/^urn:problem-type:rest-api:[a-z-]+$/),
    title: z.string(),
    status: z.int().min(400).max(599),
    code: z
      .enum(Object.keys(PROBLEM_STATUS) as [string, ...string[]])
      .meta({ description: 'stable: branch on this, not on title or detail' }),
    detail: z.string().optional(),
    instance: z.string().optional().meta({ description: 'the request target, when at most 2,048 characters' }),
    errors: z.array(fieldError).max(MAX_FIELD_ERRORS).optional(),
    omittedErrors: z
      .int()
      .min(1)
      .optional()
      .meta({ description: `how many field errors were found beyond the ${MAX_FIELD_ERRORS} listed; absent when none were left out` }),
  })
  .meta({ description: 'RFC 9457 problem details; every error answer has this shape.' });
