/**
 * The error catalogue: each error the API can answer, with its status and title, rendered as
 * RFC 9457 problem details (`application/problem+json`) by one error handler.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store/errors';
import type { UnavailableReason } from '../store/errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export const PROBLEMS = {
  malformed_json: { status: 400, title: 'Request body is not valid JSON' },
  validation_failed: { status: 400, title: 'Request is invalid' },
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
  readonly errors?: readonly FieldError[];
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

export function sendProblem(res: Response, code: ProblemCode, options: ProblemOptions = {}): void {
  const status = options.status ?? PROBLEMS[code].status;
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
        ...(options.errors !== undefined && { errors: options.errors }),
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
      (req.log ?? logger).warn({ err: err.cause ?? err, reason: err.reason }, 'store unavailable');
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
    (req.log ?? logger).error({ err }, 'unhandled error');
    sendProblem(res, 'internal_error');
  };
}
