/**
 * Fault injection for demos and alert tests. Only installed when FAULT_INJECTION=true: then
 * `x-fault-delay-ms: <0..10000>` delays the request and `x-fault-status: <400..599>` answers
 * that status instead of the route's handler. The route's `endpoint` label stays the real one.
 * With authentication on, only authenticated callers' headers are honoured: an anonymous reader
 * must not be able to make the service fail or stall on purpose.
 */
import type { RequestHandler } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProblemError } from './problems';

export const FAULT_STATUS_HEADER = 'x-fault-status';
export const FAULT_DELAY_HEADER = 'x-fault-delay-ms';
export const MAX_FAULT_DELAY_MS = 10_000;

function headerInt(value: string | string[] | undefined, header: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,6}$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    throw new ProblemError('validation_failed', {
      detail: `header ${header} must be an integer from ${min} to ${max}`,
      errors: [{ field: header, in: 'header', detail: `must be an integer from ${min} to ${max}` }],
    });
  }
  return Number(text);
}

export interface FaultOptions {
  /** Ignore the headers of callers the authentication step did not authenticate. @default false */
  readonly authenticatedOnly?: boolean;
}

export function faultInjection(options: FaultOptions = {}): RequestHandler {
  return async (req, res, next) => {
    if (options.authenticatedOnly === true && res.locals.caller?.authenticated !== true) {
      next();
      return;
    }
    const status = headerInt(req.headers[FAULT_STATUS_HEADER], FAULT_STATUS_HEADER, 400, 599);
    const delay = headerInt(req.headers[FAULT_DELAY_HEADER], FAULT_DELAY_HEADER, 0, MAX_FAULT_DELAY_MS);
    if (delay !== undefined && delay > 0) await sleep(delay);
    if (status !== undefined) {
      throw new ProblemError('injected_fault', { status, detail: `fault injected with ${FAULT_STATUS_HEADER}` });
    }
    next();
  };
}
