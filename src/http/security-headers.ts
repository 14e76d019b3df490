/**
 * Headers every response carries, set by the first middleware so that no answer (an item, a
 * problem, the metrics, a 404) goes without them.
 */
import type { RequestHandler, Response } from 'express';

/** Browsers must not guess a response's type from its bytes: JSON is never run as a script or page. */
export function setNoSniff(res: Response): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

export const noSniff: RequestHandler = (_req, res, next) => {
  setNoSniff(res);
  next();
};
