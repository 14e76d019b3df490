/**
 * JWT bearer tokens, verified with jose against the issuer's JSON Web Key Set (fetched over
 * HTTP and cached by createRemoteJWKSet). Only the configured asymmetric algorithms are
 * accepted, so `alg: none` and an HS256 token signed with the public key (RS/HS confusion) are
 * refused before any key is looked at. Tokens must name the configured issuer and audience,
 * carry `exp` and `sub`, and not be expired.
 *
 * The claims are first checked unverified, which costs nothing and contacts no one: a token for
 * another issuer, another audience or already expired is answered 401 even while the key set's
 * host is down, so a client's bad token can never turn into a 503. Only a token that could be
 * valid and whose key cannot be fetched answers 503 (the dependency failed, retry later).
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { JwtAlgorithm } from '../contract';
import type { Verification, Verifier } from './verifier';

/** How long one fetch of the key set may take before the request answers 503. */
const JWKS_TIMEOUT_MS = 2_000;
/** A token naming an unknown `kid` refetches the key set at most this often. */
const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched after this, so a key removed at the issuer stops working within it. */
const JWKS_MAX_AGE_MS = 600_000;
/** Clock skew allowed between the issuer and this server for `exp` and `nbf`. */
const CLOCK_TOLERANCE_S = 5;

/** jose's errors that mean the token is wrong; any other failure is the key set's host failing. */
const TOKEN_ERRORS = [
  errors.JWTClaimValidationFailed,
  errors.JWTExpired,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
];

export interface JwtOptions {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly JwtAlgorithm[];
}

/** Scopes of a token: OAuth's space-separated `scope`, or `scp` as a list or a string. */
function scopesOf(payload: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  for (const claim of [payload.scope, payload.scp]) {
    const values = typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim : [];
    for (const v of values) if (typeof v === 'string' && v !== '') scopes.add(v);
  }
  return scopes;
}

export class JwtVerifier implements Verifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly options: JwtOptions) {
    this.jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
      timeoutDuration: JWKS_TIMEOUT_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
  }

  async verify(token: string): Promise<Verification> {
    const precheck = this.precheck(token);
    if (precheck !== undefined) return { outcome: 'invalid', reason: precheck };
    try {
      const { payload } = await jwtVerify(token, this.jwks, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...this.options.algorithms],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      return { outcome: 'valid', id: `sub:${payload.sub!}`, scopes: scopesOf(payload) };
    } catch (err) {
      if (TOKEN_ERRORS.some((type) => err instanceof type)) return { outcome: 'invalid', reason: (err as Error).message };
      return { outcome: 'unavailable', reason: `the key set at ${this.options.jwksUrl} could not be fetched: ${String(err)}` };
    }
  }

  /** Why the token cannot be valid, judged from its unverified header and claims; undefined if it may be. */
  private precheck(token: string): string | undefined {
    let alg: string | undefined;
    let claims: JWTPayload;
    try {
      alg = decodeProtectedHeader(token).alg;
      claims = decodeJwt(token);
    } catch {
      return 'not a JWT';
    }
    if (alg === undefined || !(this.options.algorithms as readonly string[]).includes(alg)) {
      return `alg ${JSON.stringify(alg ?? null)} is not one of ${this.options.algorithms.join(', ')}`;
    }
    if (claims.iss !== this.options.issuer) return 'unexpected "iss" claim value';
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.options.audience)) return 'unexpected "aud" claim value';
    if (typeof claims.exp !== 'number') return 'missing required "exp" claim';
    if (claims.exp + CLOCK_TOLERANCE_S <= Date.now() / 1000) return '"exp" claim timestamp check failed';
    return undefined;
  }
}
