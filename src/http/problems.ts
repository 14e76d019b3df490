/**
 * The error catalogue: each error the API can answer, with its status and title, rendered as
 * RFC 9457 problem details (`application/problem+json`) by one error handler.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store/errors';
import { requestFields } from './access-log';
import type { UnavailableReason } from '../store/errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export const PROBLEMS = {
  malformed_json: { status: 400, title: 'Request body is not valid JSON' },
  validation_failed: { status: 400, title: 'Request is invalid' },
  body_too_deep: { status: 400, title: 'Request body nests too deeply' },
  bad_request: { status: 400, title: 'Bad request' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed for this caller' },
  item_not_found: { status: 404, title: 'Item not found' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'Method not allowed on this route' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported request content type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  injected_fault: { status: 500, title: 'Injected fault' },
  internal_error: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
  overloaded: { status: 503, title: 'Too many requests in progress' },
  store_unavailable: { status: 503, title: 'The store is unavailable' },
  store_busy: { status: 503, title: 'Every store connection is busy' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

/**
 * At most this many field errors are listed in one answer; `omittedErrors` counts the rest. A
 * body can hold thousands of bad strings or unknown fields, and the answer must stay small.
 */
export const MAX_FIELD_ERRORS = 20;

/** One offending part of a request: a JSON Pointer into the body, a query parameter or a header. */
export interface FieldError {
  /** Dotted path of the field, e.g. `tags.3`, or the query parameter / header name. */
  readonly field: string;
  /** Where the field is: `body`, `query`, `header` or `path`. */
  readonly in: 'body' | 'query' | 'header' | 'path';
  /** JSON Pointer (RFC 6901) into the body, for body fields. */
  readonly pointer?: string;
  readonly detail: string;
}

export interface ProblemOptions {
  readonly detail?: string;
  /** Overrides the catalogue status (injected faults answer the status asked for). */
  readonly status?: number;
  /** Listed up to MAX_FIELD_ERRORS; the rest are counted in `omittedErrors`. */
  readonly errors?: readonly FieldError[];
  /** Errors found beyond those in `errors` (their count only). @default errors beyond the cap */
  readonly omittedErrors?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Thrown (or passed to next) anywhere; rendered by problemHandler. */
export class ProblemError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly options: ProblemOptions = {},
  ) {
    super(options.detail ?? PROBLEMS[code].title);
    this.name = 'ProblemError';
  }
}

/**
 * A 400 naming each bad field: the first MAX_FIELD_ERRORS in `errors` and in the detail, and how
 * many more there are (`omitted`, for producers that only counted them).
 */
export function validationProblem(errors: readonly FieldError[], omitted = 0): ProblemError {
  const listed = errors.slice(0, MAX_FIELD_ERRORS);
  const more = errors.length - listed.length + omitted;
  const detail = listed.map((e) => `${e.field}: ${e.detail}`).join('; ') + (more > 0 ? `; and ${more} more` : '');
  return new ProblemError('validation_failed', { detail, errors: listed, omittedErrors: more });
}

export function sendProblem(res: Response, code: ProblemCode, options: ProblemOptions = {}): void {
  const status = options.status ?? PROBLEMS[code].status;
  const errors = options.errors?.slice(0, MAX_FIELD_ERRORS);
  const omitted = (options.omittedErrors ?? 0) + (options.errors?.length ?? 0) - (errors?.length ?? 0);
  for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
  res
    .status(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        type: `urn:problem-type:rest-api:${code.replaceAll('_', '-')}`,
        title: PROBLEMS[code].title,
        status,
        code,
        ...(options.detail !== undefined && { detail: options.detail }),
        instance: res.req.originalUrl.length <= 2048 ? res.req.originalUrl : undefined,
        ...(errors !== undefined && { errors }),
        ...(omitted > 0 && { omittedErrors: omitted }),
      }),
    );
}

/** body-parser's error types, mapped to the catalogue. */
const PARSER_ERRORS: Record<string, ProblemCode> = {
  'entity.parse.failed': 'malformed_json',
  'entity.too.large': 'payload_too_large',
  'charset.unsupported': 'unsupported_media_type',
  'encoding.unsupported': 'unsupported_media_type',
};

interface HttpError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message?: string;
}

/** How each store failure is answered: its problem code, detail and Retry-After (seconds). */
const STORE_FAILURES: Record<UnavailableReason, { code: ProblemCode; detail: string; retryAfter: string }> = {
  not_open: { code: 'store_unavailable', detail: 'the store is not open yet', retryAfter: '5' },
  unreachable: { code: 'store_unavailable', detail: 'the store is unreachable', retryAfter: '5' },
  timeout: { code: 'store_unavailable', detail: 'the store did not answer in time', retryAfter: '1' },
  busy: { code: 'store_busy', detail: 'every store connection stayed busy', retryAfter: '1' },
  read_only: { code: 'store_unavailable', detail: 'the database accepts no writes right now (a failover in progress)', retryAfter: '2' },
};

/** The last middleware: renders every error as a problem; never leaks a stack trace. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof ProblemError) {
      sendProblem(res, err.code, err.options);
      return;
    }
    if (err instanceof StoreUnavailableError) {
      const failure = STORE_FAILURES[err.reason];
      logger.warn({ req: requestFields(req, res), err: err.cause ?? err, reason: err.reason }, 'store unavailable');
      sendProblem(res, failure.code, { detail: failure.detail, headers: { 'Retry-After': failure.retryAfter } });
      return;
    }
    const e = (typeof err === 'object' && err !== null ? err : {}) as HttpError;
    const status = e.status ?? e.statusCode;
    if (status !== undefined && status >= 400 && status < 500 && e.expose === true) {
      const code = (e.type !== undefined && PARSER_ERRORS[e.type]) || 'bad_request';
      sendProblem(res, code, { status, detail: e.message });
      return;
    }
    logger.error({ req: requestFields(req, res), err }, 'unhandled error');
    sendProblem(res, 'internal_error');
  };
}
