/**
 * Environment -> frozen, typed Config. Every variable is validated at boot; an invalid value
 * stops the process with a message that names the variable and the value it had.
 */
import { accessSync, constants } from 'node:fs';
import { z } from 'zod';
import { AUTH_MODES, AUTH_READS, DEFAULT_JWT_ALGORITHMS, DEFAULT_PORT, DEFAULT_WRITE_SCOPE, JWT_ALGORITHMS } from './contract';
import type { JwtAlgorithm } from './contract';
import { redact } from './redact';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce
  .number({ error: 'must be an integer port number' })
  .int('must be an integer port number')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveMs = (max: number) =>
  z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int('must be an integer number of milliseconds')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);

const jwtAlgorithms = z
  .string()
  .transform((v) => v.split(',').map((a) => a.trim()))
  .refine((list) => list.every((a) => (JWT_ALGORITHMS as readonly string[]).includes(a)), {
    message: `must be a comma-separated list of ${JWT_ALGORITHMS.join(', ')} (no HS* or none)`,
  })
  .transform((list) => [...new Set(list)] as JwtAlgorithm[]);

const httpUrl = z.string().refine((v) => {
  try {
    const url = new URL(v);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL');

/** A file the process can read; `null` (no such setting) passes. */
function readable(file: string | null): boolean {
  if (file === null) return true;
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function hasParam(url: string | undefined, name: string): boolean {
  return url !== undefined && URL.canParse(url) && new URL(url).searchParams.has(name);
}

/** The URL's sslmode; verify-full when a CA file is given and the URL names no sslmode. */
function sslmode(url: string | undefined): string | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  return new URL(url).searchParams.get('sslmode') ?? 'verify-full';
}

/**
 * DATABASE_URL with DATABASE_CA_FILE as its `sslrootcert` and `sslmode=verify-full`: node-postgres
 * reads both from the URL (pg-connection-string), and settings passed beside a connection string
 * would be overridden by it.
 */
function withCaFile(url: string | undefined, caFile: string | undefined): string | undefined {
  if (url === undefined || caFile === undefined) return url;
  const u = new URL(url);
  u.searchParams.set('sslmode', 'verify-full');
  u.searchParams.set('sslrootcert', caFile);
  return u.toString();
}

const envSchema = z
  .object({
    PORT: port.default(DEFAULT_PORT),
    HOST: z.string().min(1, 'must not be empty').optional(),
    METRICS_PORT: port.optional(),
    DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
    DATABASE_URL: z
      .string()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL')
      .refine(
        (v) => !/^postgres(ql)?:\/\//.test(v) || URL.canParse(v),
        'is not a valid URL (percent-encode special characters of the password)',
      )
      .refine((v) => !URL.canParse(v) || readable(new URL(v).searchParams.get('sslrootcert')), 'sslrootcert: the file cannot be read')
      .optional(),
    DATABASE_CA_FILE: z
      .string()
      .refine((v) => readable(v), 'the file cannot be read')
      .optional(),
    DB_POOL_MAX: z.coerce.number().int('must be an integer').min(1).max(100).default(10),
    DB_POOL_WAIT_MS: positiveMs(60_000).default(2_000),
    DB_STATEMENT_TIMEOUT_MS: positiveMs(600_000).default(5_000),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    SHUTDOWN_TIMEOUT_MS: positiveMs(600_000).default(10_000),
    FAULT_INJECTION: boolean.default(false),
    HEADERS_TIMEOUT_MS: positiveMs(600_000).default(10_000),
    REQUEST_TIMEOUT_MS: positiveMs(600_000).default(30_000),
    KEEP_ALIVE_TIMEOUT_MS: positiveMs(600_000).default(5_000),
    MAX_REQUESTS_PER_SOCKET: z.coerce.number().int('must be an integer').min(0).max(1_000_000).default(100),
    MAX_IN_FLIGHT: z.coerce.number().int('must be an integer').min(1).max(100_000).default(256),
    AUTH_MODE: z.enum(AUTH_MODES, { error: `must be one of ${AUTH_MODES.join(', ')}` }).default('none'),
    AUTH_READS: z.enum(AUTH_READS, { error: `must be one of ${AUTH_READS.join(', ')}` }).default('open'),
    AUTH_API_KEYS_FILE: z.string().optional(),
    AUTH_JWKS_URL: httpUrl.optional(),
    AUTH_ISSUER: z.string().optional(),
    AUTH_AUDIENCE: z.string().optional(),
    AUTH_JWT_ALGORITHMS: jwtAlgorithms.default(() => [...DEFAULT_JWT_ALGORITHMS]),
    AUTH_WRITE_SCOPE: z
      .string()
      .regex(/^[!#-[\]-~]+$/, 'must be one scope token (no spaces or quotes)')
      .default(DEFAULT_WRITE_SCOPE),
    RATE_LIMIT_RPS: z.coerce.number({ error: 'must be a number' }).min(0, 'must be at least 0').max(1_000_000).default(0),
    RATE_LIMIT_BURST: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(10_000_000).optional(),
    RATE_LIMIT_AUTH_FAILURES: z.coerce.number().int('must be an integer').min(0).max(1_000_000).default(30),
    TRUST_PROXY_HOPS: z.coerce.number().int('must be an integer').min(0).max(10, 'must be at most 10').default(0),
  })
  .superRefine((env, ctx) => {
    const required: Record<string, readonly (keyof typeof env)[]> = {
      'api-key': ['AUTH_API_KEYS_FILE'],
      jwt: ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'],
    };
    for (const key of required[env.AUTH_MODE] ?? []) {
      if (env[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `is required when AUTH_MODE=${env.AUTH_MODE}` });
    }
  })
  .refine((env) => env.METRICS_PORT === undefined || env.METRICS_PORT === 0 || env.METRICS_PORT !== env.PORT, {
    path: ['METRICS_PORT'],
    message: 'must differ from PORT',
  })
  .refine((env) => env.DATABASE_CA_FILE === undefined || env.DATABASE_URL !== undefined, {
    path: ['DATABASE_CA_FILE'],
    message: 'needs DATABASE_URL (the embedded store makes no connection)',
  })
  .refine((env) => env.DATABASE_CA_FILE === undefined || !hasParam(env.DATABASE_URL, 'sslrootcert'), {
    path: ['DATABASE_CA_FILE'],
    message: 'set either DATABASE_CA_FILE or sslrootcert= in DATABASE_URL, not both',
  })
  .refine((env) => env.DATABASE_CA_FILE === undefined || sslmode(env.DATABASE_URL) === 'verify-full', {
    path: ['DATABASE_CA_FILE'],
    message: 'needs sslmode=verify-full in DATABASE_URL (or no sslmode, which then means verify-full)',
  })
  // Node checks headersTimeout against the whole request when requestTimeout is smaller.
  .refine((env) => env.REQUEST_TIMEOUT_MS >= env.HEADERS_TIMEOUT_MS, {
    path: ['REQUEST_TIMEOUT_MS'],
    message: 'must not be less than HEADERS_TIMEOUT_MS',
  });

export interface Config {
  /** Port of the API listener. @default 8080 */
  readonly port: number;
  /** Interface to bind; all interfaces when unset. */
  readonly host: string | undefined;
  /** When set, /metrics is served only on this separate listener. */
  readonly metricsPort: number | undefined;
  /** Data directory of the embedded store (used when no databaseUrl). @default ./data */
  readonly dataDir: string;
  /** PostgreSQL connection URL (with DATABASE_CA_FILE as its sslrootcert); when set the embedded store is not used. */
  readonly databaseUrl: string | undefined;
  /** Maximum connections in the PostgreSQL pool. @default 10 */
  readonly dbPoolMax: number;
  /** How long a query waits for a free pool connection before answering 503. @default 2000 */
  readonly dbPoolWaitMs: number;
  /** PostgreSQL `statement_timeout` of every pool connection. @default 5000 */
  readonly dbStatementTimeoutMs: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Time allowed for in-flight requests to finish after SIGTERM. @default 10000 */
  readonly shutdownTimeoutMs: number;
  /** Honour x-fault-status / x-fault-delay-ms request headers. @default false */
  readonly faultInjection: boolean;
  /** Time a client has to send a request's headers (else 408). @default 10000 */
  readonly headersTimeoutMs: number;
  /** Time a client has to send a whole request (else 408). @default 30000 */
  readonly requestTimeoutMs: number;
  /** Idle time after which a keep-alive connection is closed. @default 5000 */
  readonly keepAliveTimeoutMs: number;
  /** Requests one connection may carry before it is closed; 0 for no limit. @default 100 */
  readonly maxRequestsPerSocket: number;
  /** API requests served at once; beyond, 503 with Retry-After. @default 256 */
  readonly maxInFlight: number;
  readonly auth: AuthConfig;
  readonly rateLimit: RateLimitConfig;
  /** Proxies in front of the server whose X-Forwarded-For is trusted for the client address. @default 0 */
  readonly trustProxyHops: number;
}

export type AuthConfig =
  | { readonly mode: 'none' }
  | (AuthCommon & { readonly mode: 'api-key'; readonly apiKeysFile: string })
  | (AuthCommon & {
      readonly mode: 'jwt';
      readonly jwksUrl: string;
      readonly issuer: string;
      readonly audience: string;
      /** @default ['RS256', 'ES256'] */
      readonly algorithms: readonly JwtAlgorithm[];
      /** Scope a token needs for writes (else 403). @default items:write */
      readonly writeScope: string;
    });

interface AuthCommon {
  /** Whether reads need credentials too. @default open */
  readonly reads: (typeof AUTH_READS)[number];
}

export interface RateLimitConfig {
  /** Sustained requests per second per caller; 0 turns the per-caller limit off. @default 0 */
  readonly rps: number;
  /** Requests a caller may send at once. @default twice rps, at least 1 */
  readonly burst: number;
  /** Failed authentications per client address and minute before 429; 0: no limit. @default 30 */
  readonly authFailuresPerMinute: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the config from an environment; throws ConfigError naming every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`PORT=`) means "unset", as in most shells' and Kubernetes' usage.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '');
        // The value is shown so the culprit is obvious, but never a password it holds.
        return redact(`${key}=${JSON.stringify(present[key] ?? '')}: ${issue.message}`);
      }),
    );
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT,
    dataDir: e.DATA_DIR,
    databaseUrl: withCaFile(e.DATABASE_URL, e.DATABASE_CA_FILE),
    dbPoolMax: e.DB_POOL_MAX,
    dbPoolWaitMs: e.DB_POOL_WAIT_MS,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    faultInjection: e.FAULT_INJECTION,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: e.MAX_REQUESTS_PER_SOCKET,
    maxInFlight: e.MAX_IN_FLIGHT,
    auth: Object.freeze(authConfig(e)),
    rateLimit: Object.freeze({
      rps: e.RATE_LIMIT_RPS,
      burst: e.RATE_LIMIT_BURST ?? Math.max(1, Math.ceil(2 * e.RATE_LIMIT_RPS)),
      authFailuresPerMinute: e.RATE_LIMIT_AUTH_FAILURES,
    }),
    trustProxyHops: e.TRUST_PROXY_HOPS,
  });
}

function authConfig(e: z.infer<typeof envSchema>): AuthConfig {
  // The schema's refinement has checked that each mode's variables are set.
  switch (e.AUTH_MODE) {
    case 'none':
      return { mode: 'none' };
    case 'api-key':
      return { mode: 'api-key', reads: e.AUTH_READS, apiKeysFile: e.AUTH_API_KEYS_FILE! };
    case 'jwt':
      return {
        mode: 'jwt',
        reads: e.AUTH_READS,
        jwksUrl: e.AUTH_JWKS_URL!,
        issuer: e.AUTH_ISSUER!,
        audience: e.AUTH_AUDIENCE!,
        algorithms: Object.freeze(e.AUTH_JWT_ALGORITHMS),
        writeScope: e.AUTH_WRITE_SCOPE,
      };
  }
}
