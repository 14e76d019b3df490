import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: undefined,
      metricsPort: undefined,
      dataDir: './data',
      databaseUrl: undefined,
      dbPoolMax: 10,
      dbPoolWaitMs: 2_000,
      dbStatementTimeoutMs: 5_000,
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      faultInjection: false,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxRequestsPerSocket: 100,
      maxInFlight: 256,
      auth: { mode: 'none' },
      rateLimit: { rps: 0, burst: 1, authFailuresPerMinute: 30 },
      trustProxyHops: 0,
    });
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      METRICS_PORT: '9100',
      DATA_DIR: '/var/lib/items',
      DATABASE_URL: 'postgres://u:p@db:5432/items',
      DB_POOL_MAX: '4',
      LOG_LEVEL: 'debug',
      SHUTDOWN_TIMEOUT_MS: '25000',
      FAULT_INJECTION: 'true',
      DB_POOL_WAIT_MS: '500',
      DB_STATEMENT_TIMEOUT_MS: '1500',
      HEADERS_TIMEOUT_MS: '4000',
      REQUEST_TIMEOUT_MS: '8000',
      KEEP_ALIVE_TIMEOUT_MS: '3000',
      MAX_REQUESTS_PER_SOCKET: '0',
      MAX_IN_FLIGHT: '64',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      metricsPort: 9100,
      dataDir: '/var/lib/items',
      databaseUrl: 'postgres://u:p@db:5432/items',
      dbPoolMax: 4,
      logLevel: 'debug',
      shutdownTimeoutMs: 25_000,
      faultInjection: true,
      dbPoolWaitMs: 500,
      dbStatementTimeoutMs: 1_500,
      headersTimeoutMs: 4_000,
      requestTimeoutMs: 8_000,
      keepAliveTimeoutMs: 3_000,
      maxRequestsPerSocket: 0,
      maxInFlight: 64,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 8080, databaseUrl: undefined });
  });

  it.each([
    ['PORT', 'eighty', /PORT="eighty": must be an integer port number/],
    ['PORT', '70000', /PORT="70000": must be between 0 and 65535/],
    ['PORT', '80.5', /PORT="80.5": must be an integer port number/],
    ['METRICS_PORT', '-1', /METRICS_PORT="-1"/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL="mysql:\/\/x": must be a postgres/],
    ['LOG_LEVEL', 'verbose', /LOG_LEVEL="verbose": must be one of fatal, error/],
    ['SHUTDOWN_TIMEOUT_MS', '0', /SHUTDOWN_TIMEOUT_MS="0": must be at least 1/],
    ['SHUTDOWN_TIMEOUT_MS', 'soon', /SHUTDOWN_TIMEOUT_MS="soon"/],
    ['FAULT_INJECTION', 'maybe', /FAULT_INJECTION="maybe": must be true or false/],
    ['DB_POOL_MAX', '0', /DB_POOL_MAX="0"/],
    ['DB_POOL_WAIT_MS', '0', /DB_POOL_WAIT_MS="0": must be at least 1/],
    ['DB_STATEMENT_TIMEOUT_MS', 'long', /DB_STATEMENT_TIMEOUT_MS="long"/],
    ['HEADERS_TIMEOUT_MS', '-1', /HEADERS_TIMEOUT_MS="-1"/],
    ['KEEP_ALIVE_TIMEOUT_MS', '1.5', /KEEP_ALIVE_TIMEOUT_MS="1.5": must be an integer/],
    ['MAX_REQUESTS_PER_SOCKET', '-3', /MAX_REQUESTS_PER_SOCKET="-3"/],
    ['MAX_IN_FLIGHT', '0', /MAX_IN_FLIGHT="0"/],
    ['AUTH_MODE', 'basic', /AUTH_MODE="basic": must be one of none, api-key, jwt/],
    ['AUTH_READS', 'closed', /AUTH_READS="closed": must be one of open, authenticated/],
    ['AUTH_JWKS_URL', 'ftp://idp/keys', /AUTH_JWKS_URL="ftp:\/\/idp\/keys": must be an http/],
    ['AUTH_JWT_ALGORITHMS', 'HS256', /AUTH_JWT_ALGORITHMS="HS256": .*no HS\* or none/],
    ['AUTH_JWT_ALGORITHMS', 'RS256,none', /AUTH_JWT_ALGORITHMS="RS256,none"/],
    ['AUTH_WRITE_SCOPE', 'items write', /AUTH_WRITE_SCOPE="items write": must be one scope token/],
    ['RATE_LIMIT_RPS', '-1', /RATE_LIMIT_RPS="-1": must be at least 0/],
    ['RATE_LIMIT_RPS', 'fast', /RATE_LIMIT_RPS="fast"/],
    ['RATE_LIMIT_BURST', '0', /RATE_LIMIT_BURST="0": must be at least 1/],
    ['RATE_LIMIT_AUTH_FAILURES', '2.5', /RATE_LIMIT_AUTH_FAILURES="2.5": must be an integer/],
    ['TRUST_PROXY_HOPS', '11', /TRUST_PROXY_HOPS="11": must be at most 10/],
  ])('rejects %s=%s naming the variable', (key, value, message) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(message);
  });

  it('rejects a metrics port equal to the API port', () => {
    expect(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' })).toThrow(/METRICS_PORT="8080": must differ from PORT/);
  });

  it('rejects a request timeout shorter than the headers timeout', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' })).toThrow(
      /REQUEST_TIMEOUT_MS="10000": must not be less than HEADERS_TIMEOUT_MS/,
    );
  });

  it.each([
    ['api-key', ['AUTH_API_KEYS_FILE']],
    ['jwt', ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE']],
  ])('names every variable AUTH_MODE=%s needs and lacks', (mode, keys) => {
    try {
      loadConfig({ AUTH_MODE: mode });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(keys.map((k) => `${k}="": is required when AUTH_MODE=${mode}`));
    }
  });

  it('reads the authentication and rate-limit variables', () => {
    const jwt = loadConfig({
      AUTH_MODE: 'jwt',
      AUTH_READS: 'authenticated',
      AUTH_JWKS_URL: 'https://idp.example/jwks.json',
      AUTH_ISSUER: 'https://idp.example/',
      AUTH_AUDIENCE: 'rest-api',
      AUTH_JWT_ALGORITHMS: 'ES256, PS256,ES256',
      AUTH_WRITE_SCOPE: 'items.write',
      RATE_LIMIT_RPS: '2.5',
      RATE_LIMIT_AUTH_FAILURES: '0',
      TRUST_PROXY_HOPS: '2',
    });
    expect(jwt).toMatchObject({
      auth: {
        mode: 'jwt',
        reads: 'authenticated',
        jwksUrl: 'https://idp.example/jwks.json',
        issuer: 'https://idp.example/',
        audience: 'rest-api',
        algorithms: ['ES256', 'PS256'],
        writeScope: 'items.write',
      },
      rateLimit: { rps: 2.5, burst: 5, authFailuresPerMinute: 0 },
      trustProxyHops: 2,
    });
    expect(Object.isFrozen(jwt.auth)).toBe(true);
    expect(Object.isFrozen(jwt.rateLimit)).toBe(true);
    expect(
      loadConfig({ AUTH_MODE: 'jwt', AUTH_JWKS_URL: 'http://127.0.0.1:1/k', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }).auth,
    ).toMatchObject({
      reads: 'open',
      algorithms: ['RS256', 'ES256'],
      writeScope: 'items:write',
    });
    expect(
      loadConfig({ AUTH_MODE: 'api-key', AUTH_API_KEYS_FILE: '/run/keys', RATE_LIMIT_RPS: '10', RATE_LIMIT_BURST: '15' }),
    ).toMatchObject({
      auth: { mode: 'api-key', reads: 'open', apiKeysFile: '/run/keys' },
      rateLimit: { rps: 10, burst: 15 },
    });
  });

  describe('DATABASE_URL and its credentials', () => {
    const PASSWORD = 'Pa55-never-printed';
    it.each([
      ['a URL that does not parse (an unescaped character in the password)', `postgres://app:${PASSWORD}/x@db:5432/items`],
      ['a URL with a port out of range', `postgres://app:${PASSWORD}@db:99999/items`],
      ['a URL of another scheme', `mysql://app:${PASSWORD}@db/items`],
      ['a password in the query string', `mysql://db/items?password=${PASSWORD}`],
      ['an sslrootcert that cannot be read', `postgres://app:${PASSWORD}@db/items?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`],
    ])('rejects %s, naming the variable and never the password', (_case, url) => {
      let message = '';
      try {
        loadConfig({ DATABASE_URL: url });
      } catch (err) {
        message = (err as ConfigError).message;
      }
      expect(message).toMatch(/DATABASE_URL="[^"]*:\/\/[^"]*"/);
      expect(message).not.toContain(PASSWORD);
    });

    const ca = join(__dirname, 'config.test.ts'); // any readable file: only its path is used here
    it('adds DATABASE_CA_FILE to the URL as sslrootcert with sslmode=verify-full', () => {
      const { databaseUrl } = loadConfig({ DATABASE_URL: 'postgres://app:pw@db:5432/items', DATABASE_CA_FILE: ca });
      const url = new URL(databaseUrl!);
      expect(url.searchParams.get('sslmode')).toBe('verify-full');
      expect(url.searchParams.get('sslrootcert')).toBe(ca);
      expect(url.password).toBe('pw');
    });

    it.each([
      [
        { DATABASE_CA_FILE: '/nonexistent/ca.pem', DATABASE_URL: 'postgres://db/items' },
        /DATABASE_CA_FILE="\/nonexistent\/ca.pem": the file cannot be read/,
      ],
      [{ DATABASE_CA_FILE: ca }, /DATABASE_CA_FILE=.*needs DATABASE_URL/],
      [{ DATABASE_CA_FILE: ca, DATABASE_URL: 'postgres://db/items?sslmode=disable' }, /needs sslmode=verify-full/],
      [{ DATABASE_CA_FILE: ca, DATABASE_URL: `postgres://db/items?sslrootcert=${ca}` }, /either DATABASE_CA_FILE or sslrootcert/],
    ])('rejects DATABASE_CA_FILE that contradicts DATABASE_URL (%j)', (env, message) => {
      expect(() => loadConfig(env)).toThrow(message);
    });
  });

  it('reports every invalid variable at once', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'y' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });
});
