/**
 * The store cannot serve right now: not opened yet, unreachable, every pool connection busy, a
 * statement over its time limit, or the server a read-only standby (an old primary after a
 * failover, until the connection moves to the new one). The API answers these with 503 and Retry-After (our failure
 * or real overload), never with an opaque 500.
 */
export type UnavailableReason = 'not_open' | 'unreachable' | 'busy' | 'timeout' | 'read_only';

export class StoreUnavailableError extends Error {
  constructor(
    readonly reason: UnavailableReason,
    options?: { cause?: unknown },
  ) {
    super(`store unavailable: ${reason}`, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Network errors (node) and server states (SQLSTATE) that mean the database cannot be reached. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03', // admin_shutdown, crash_shutdown, cannot_connect_now
  '08000',
  '08003',
  '08006',
  '08001',
  '08004', // connection exceptions
  // TLS: the server's certificate is not the one DATABASE_CA_FILE / sslrootcert trusts.
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Maps a `pg` error to StoreUnavailableError when it is one, else returns it unchanged. */
export function classifyPgError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  // pg-pool's message when connectionTimeoutMillis passes while waiting for a connection.
  if (err.message === 'timeout exceeded when trying to connect') return new StoreUnavailableError('busy', { cause: err });
  if (code === '57014') return new StoreUnavailableError('timeout', { cause: err }); // query_canceled (statement_timeout)
  // read_only_sql_transaction: a write reached a standby (the old primary, demoted by a failover).
  if (code === '25006') return new StoreUnavailableError('read_only', { cause: err });
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return new StoreUnavailableError('unreachable', { cause: err });
  if (/Connection terminated|connection timeout|Client has encountered a connection error|does not support SSL/i.test(err.message)) {
    return new StoreUnavailableError('unreachable', { cause: err });
  }
  return err;
}
