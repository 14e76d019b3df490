/**
 * Rate limits, kept in this process's memory (so per pod: N replicas admit N times the rate).
 * express-rate-limit counts requests per key in fixed windows and writes the IETF `RateLimit`
 * and `RateLimit-Policy` headers (draft 8) and `Retry-After`; the answer past the limit is a
 * 429 `rate_limited` problem, which is a client error and never pages.
 *
 * - Per caller: RATE_LIMIT_BURST requests per window of BURST / RPS seconds, so a caller may send
 *   its burst at once and RATE_LIMIT_RPS per second on average. The caller is the API key's id,
 *   the token's subject, or for anonymous requests the client address.
 * - Failed authentications per client address, counted only when a credential was presented and
 *   refused, and checked before the next credential is, so guessing is slowed and a valid
 *   caller sharing the address is not limited by its own successful requests.
 */
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { RateLimitRequestHandler } from 'express-rate-limit';
import type { Logger } from 'pino';
import { sendProblem } from './problems';

export const CALLER_POLICY = 'caller';
export const AUTH_FAILURE_POLICY = 'auth-failures';
const AUTH_FAILURE_WINDOW_MS = 60_000;

export interface Caller {
  /** `key:<8 hex>`, `sub:<subject>` or `addr:<client address>`: never a credential. */
  readonly id: string;
  readonly authenticated: boolean;
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** Who sent the request, set by the authentication step. */
    caller?: Caller;
  }
}

/** Addresses seen lately and their keys: folding an IPv6 address (IPv4-mapped ones too) costs ~20 µs. */
const addressKeys = new Map<string, string>();
/** Bounds the memory of the cache; past it, it starts again. */
const ADDRESS_KEYS_MAX = 10_000;

/** The client address as the rate limits see it: IPv6 addresses folded to their /56, as one subscriber gets. */
export function addressKey(req: Request): string {
  const ip = req.ip ?? 'unknown';
  let key = addressKeys.get(ip);
  if (key === undefined) {
    if (addressKeys.size >= ADDRESS_KEYS_MAX) addressKeys.clear();
    addressKeys.set(ip, (key = `addr:${ipKeyGenerator(ip, 56)}`));
  }
  return key;
}

interface LimiterOptions {
  readonly windowMs: number;
  readonly limit: number;
  readonly identifier: string;
  readonly detail: string;
  readonly key: (req: Request, res: Response) => string;
}

function limiter(logger: Logger, options: LimiterOptions): RateLimitRequestHandler {
  return rateLimit({
    keyGenerator: options.key,
    windowMs: options.windowMs,
    limit: options.limit,
    identifier: options.identifier,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req: Request, res: Response) => sendProblem(res, 'rate_limited', { detail: options.detail }),
    logger: {
      warn: (...args: unknown[]) => logger.warn({ args }, 'rate limiter'),
      error: (...args: unknown[]) => logger.error({ args }, 'rate limiter'),
    },
  });
}

/** Limits each caller (res.locals.caller, set before this runs) to `burst` requests per `burst / rps` seconds. */
export function callerRateLimit(rps: number, burst: number, logger: Logger): RequestHandler {
  const windowMs = Math.max(1, Math.ceil((burst / rps) * 1000));
  return limiter(logger, {
    windowMs,
    limit: burst,
    identifier: CALLER_POLICY,
    detail: `more than ${burst} requests in ${windowMs / 1000} s from this caller`,
    key: (req, res) => res.locals.caller?.id ?? addressKey(req),
  });
}

/** Limits failed authentications per client address; see `counted` and `blocked`. */
export class AuthFailureLimit {
  private readonly limit: RateLimitRequestHandler;

  constructor(
    private readonly perMinute: number,
    logger: Logger,
  ) {
    this.limit = limiter(logger, {
      windowMs: AUTH_FAILURE_WINDOW_MS,
      limit: perMinute,
      identifier: AUTH_FAILURE_POLICY,
      detail: `more than ${perMinute} failed authentications in a minute from this address`,
      key: addressKey,
    });
  }

  /** True when the address has used up its failures: the next credential is not even checked. */
  async blocked(req: Request): Promise<boolean> {
    const info = await this.limit.getKey(addressKey(req));
    return info !== undefined && info.totalHits >= this.perMinute;
  }

  /** Counts a failure, then answers through `answer` (a 401) or, past the limit, 429. */
  counted(req: Request, res: Response, answer: () => void): Promise<void> {
    return this.limit(req, res, answer) as Promise<void>;
  }
}
