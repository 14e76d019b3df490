/**
 * The request id and the access log. Every response carries `x-request-id` (the caller's when it
 * is safe to echo, else a new UUID). Each counted request is logged once, when its response
 * ends, from the metrics middleware's end hook: one `info` line with the fields a per-request
 * child logger used to give (`req`, `res`, `responseTime`, `caller`), but with no child logger,
 * listener or serialization of the request made before it is known to be logged.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { CLIENT_CLOSED_STATUS } from '../contract';
import { addressKey } from './rate-limit';

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Locals {
    /** This request's id, as sent in x-request-id and logged. */
    requestId?: string;
  }
}

/** Picks the request's id, answers it in `x-request-id` and keeps it for the logs. */
export function assignRequestId(req: Request, res: Response): void {
  const given = req.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  res.locals.requestId = id;
}

/** What identifies a request in a log line: never its headers (credentials, size). */
export function requestFields(
  req: Request,
  res: Response,
): { id: string | undefined; method: string; url: string; remoteAddress: string | undefined } {
  return { id: res.locals.requestId, method: req.method, url: req.originalUrl, remoteAddress: req.socket.remoteAddress };
}

/**
 * Logs a finished request at `info` (so LOG_LEVEL=warn turns the access log off, and costs one
 * level check then). `status` is what the metrics record (499 when the client went away).
 */
export function logRequest(logger: Logger, res: Response, status: number, ms: number): void {
  if (!logger.isLevelEnabled('info')) return;
  const req = res.req;
  logger.info(
    {
      req: requestFields(req, res),
      caller: res.locals.caller?.id ?? addressKey(req),
      res: { statusCode: status },
      responseTime: Math.round(ms),
    },
    status === CLIENT_CLOSED_STATUS ? 'request aborted' : status >= 500 ? 'request errored' : 'request completed',
  );
}
