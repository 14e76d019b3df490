import { StoreUnavailableError, classifyPgError } from '../../src/store/errors';

/** An error as node-postgres or Node's TLS layer raises it. */
const failure = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('classifyPgError', () => {
  it.each([
    ['a refused connection', failure('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a CA that did not sign the server', failure('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN')],
    ['an unknown issuer', failure('unable to get local issuer certificate', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY')],
    ['a certificate for another host', failure("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID')],
    ['a server without TLS', failure('The server does not support SSL connections')],
    ['a session the server ended (stop, failover)', failure('terminating connection due to administrator command', '57P01')],
    ['a server still starting or shutting down', failure('the database system is shutting down', '57P03')],
    ['a connection that dropped mid-query', failure('Connection terminated unexpectedly')],
  ])('makes %s a 503 (store unreachable), not a 500', (_case, err) => {
    const classified = classifyPgError(err);
    expect(classified).toBeInstanceOf(StoreUnavailableError);
    expect(classified).toMatchObject({ reason: 'unreachable', cause: err });
  });

  it('makes a write on a read-only server (a standby after a failover) a 503, not a 500', () => {
    const err = failure('cannot execute INSERT in a read-only transaction', '25006');
    expect(classifyPgError(err)).toMatchObject({ name: 'StoreUnavailableError', reason: 'read_only', cause: err });
  });

  it('leaves a query error as it is', () => {
    const err = failure('syntax error at or near "SELEC"', '42601');
    expect(classifyPgError(err)).toBe(err);
  });
});
