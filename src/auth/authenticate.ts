/**
 * The authentication step of every API route, run once the route has matched (so its 401, 403
 * and 429 answers count against the route). Writes always need a credential when a verifier is
 * configured, reads only when they are set to `authenticated`; a credential sent on an open read
 * is checked all the same, so the caller is known to the rate limit (and a wrong one is told).
 *
 * Answers follow RFC 6750: 401 with `WWW-Authenticate: Bearer realm="rest-api"`, plus
 * `error="invalid_token"` when a credential was sent and refused; 403 with
 * `error="insufficient_scope"` when a valid token lacks the write scope.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { requestFields } from '../http/access-log';
import { sendProblem } from '../http/problems';
import { addressKey } from '../http/rate-limit';
import type { AuthFailureLimit } from '../http/rate-limit';
import type { Verifier } from './verifier';

export const REALM = 'rest-api';
const SAFE_METHODS = new Set(['GET', 'HEAD']);
const BEARER = /^Bearer +([^ ]+) *$/i;
/** Seconds a client is asked to wait when the token issuer's key set cannot be fetched. */
const UNAVAILABLE_RETRY_AFTER_S = '5';

export interface AuthenticationOptions {
  /** Checks credentials; undefined when authentication is off (every caller anonymous). */
  readonly verifier?: Verifier;
  /** Whether reads need a credential too. @default open */
  readonly reads?: 'open' | 'authenticated';
  /** Scope a token must have to write; callers without scopes (API keys) may write. */
  readonly writeScope?: string;
  /** Limit of failed authentications per client address. @default none */
  readonly failures?: AuthFailureLimit;
  readonly logger: Logger;
}

/** `error_description` may hold only these characters (RFC 6750 section 3). */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '').slice(0, 200);
}

function challenge(error?: { code: string; description: string; scope?: string }): string {
  if (error === undefined) return `Bearer realm="${REALM}"`;
  const scope = error.scope === undefined ? '' : `, scope="${error.scope}"`;
  return `Bearer realm="${REALM}", error="${error.code}", error_description="${quotable(error.description)}"${scope}`;
}

function unauthenticated(res: Response, detail: string, refused: boolean): void {
  sendProblem(res, 'unauthenticated', {
    detail,
    headers: { 'WWW-Authenticate': challenge(refused ? { code: 'invalid_token', description: detail } : undefined) },
  });
}

export function authentication(options: AuthenticationOptions): RequestHandler {
  const { verifier, failures, writeScope } = options;
  const readsOpen = options.reads !== 'authenticated';
  return async (req: Request, res: Response, next) => {
    const header = req.headers.authorization;
    const write = !SAFE_METHODS.has(req.method);
    if (verifier === undefined || (header === undefined && !write && readsOpen)) {
      res.locals.caller = { id: addressKey(req), authenticated: false };
      next();
      return;
    }
    if (header === undefined) {
      unauthenticated(res, `${write ? 'writes' : 'reads'} need a credential: Authorization: Bearer <credential>`, false);
      return;
    }
    const check = async (): Promise<void> => {
      const token = BEARER.exec(header)?.[1];
      const verdict =
        token === undefined
          ? { outcome: 'invalid' as const, reason: 'the Authorization header is not Bearer <credential>' }
          : await verifier.verify(token);
      switch (verdict.outcome) {
        case 'valid':
          if (write && writeScope !== undefined && verdict.scopes !== undefined && !verdict.scopes.has(writeScope)) {
            sendProblem(res, 'forbidden', {
              detail: `writes need the scope ${writeScope}`,
              headers: {
                'WWW-Authenticate': challenge({ code: 'insufficient_scope', description: `needs ${writeScope}`, scope: writeScope }),
              },
            });
            return;
          }
          res.locals.caller = { id: verdict.id, authenticated: true };
          next();
          return;
        case 'unavailable':
          options.logger.warn({ req: requestFields(req, res), reason: verdict.reason }, 'credential could not be checked');
          sendProblem(res, 'unavailable', {
            detail: 'credentials cannot be checked right now',
            headers: { 'Retry-After': UNAVAILABLE_RETRY_AFTER_S },
          });
          return;
        case 'invalid': {
          const refuse = () => unauthenticated(res, `the credential was refused: ${verdict.reason}`, true);
          if (failures === undefined) refuse();
          else await failures.counted(req, res, refuse);
          return;
        }
      }
    };
    // An address past its failures is answered 429 without the credential being checked. (Should
    // its window end between the two calls, the credential is checked after all.)
    if (failures !== undefined && (await failures.blocked(req))) {
      await failures.counted(req, res, () => void check().catch(next));
      return;
    }
    await check();
  };
}
