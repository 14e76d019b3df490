/**
 * The requests this app is answering: their responses, so that when draining each one still
 * unsent says `Connection: close` (a client must not send its next request on a connection we
 * are about to close), and their number, which bounds the memory a flood can take: a client that
 * pipelines thousands of requests without reading would otherwise have every response queued.
 * A response leaves the set when it is flushed to the socket or the socket closes.
 */
import type { RequestHandler, Response } from 'express';
import { sendProblem } from './problems';

/** Seconds a client is asked to wait after an `overloaded` answer. */
const OVERLOAD_RETRY_AFTER_S = '1';

export class InFlight {
  private readonly responses = new Set<Response>();
  private draining = false;

  get size(): number {
    return this.responses.size;
  }

  /** A `close` listener: removes the response that emits it (a response emits `close` once). */
  private readonly onClose: (this: Response) => void;

  constructor() {
    const responses = this.responses;
    this.onClose = function (this: Response) {
      responses.delete(this);
    };
  }

  /** The app's first middleware. */
  readonly track: RequestHandler = (_req, res, next) => {
    this.responses.add(res);
    // One shared listener, not a closure and a `once` wrapper per request.
    res.on('close', this.onClose);
    if (this.draining) res.setHeader('Connection', 'close');
    next();
  };

  /** Answers 503 `overloaded` while more than `max` requests are being answered. */
  limit(max: number): RequestHandler {
    return (_req, res, next) => {
      if (this.responses.size <= max) {
        next();
        return;
      }
      sendProblem(res, 'overloaded', {
        detail: `more than ${max} requests are in progress`,
        headers: { 'Retry-After': OVERLOAD_RETRY_AFTER_S },
      });
    };
  }

  /** From now on every response not yet started, and every new one, closes its connection. */
  drain(): void {
    this.draining = true;
    for (const res of this.responses) if (!res.headersSent) res.setHeader('Connection', 'close');
  }
}
