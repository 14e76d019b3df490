/**
 * JWT bearer tokens against a real JSON Web Key Set served over HTTP on port 0, tokens signed by
 * jose as an issuer would sign them.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createHmac } from 'node:crypto';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { JWTPayload, KeyLike } from 'jose';
import pino from 'pino';
import { authSetup } from '../../src/auth';
import { METRIC } from '../../src/contract';
import { json, listenOnEphemeralPort, postJson, startApp } from '../helpers/app';
import type { Problem, RunningApp } from '../helpers/app';
import { scrape, valueOf } from '../helpers/exposition';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'rest-api';
const KID = 'signing-key-1';
const silent = pino({ level: 'silent' });

/** A key set server that counts its fetches and can be told to fail. */
interface Jwks {
  readonly url: string;
  readonly server: Server;
  fetches: number;
  failing: boolean;
}

async function serveJwks(publicKey: KeyLike): Promise<Jwks> {
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const state = { fetches: 0, failing: false } as Jwks;
  const server = createServer((_req, res) => {
    state.fetches++;
    if (state.failing) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  const base = await listenOnEphemeralPort(server);
  return Object.assign(state, { url: `${base}/.well-known/jwks.json`, server });
}

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);

let privateKey: KeyLike;
let publicKey: KeyLike;
let otherKey: KeyLike;
let jwks: Jwks;
let owner: RunningApp;
let app: RunningApp;
let items: string;

/** A token as the issuer signs it; `claims` override the defaults (undefined removes one). */
function sign(claims: JWTPayload = {}, key: KeyLike = privateKey): Promise<string> {
  const payload = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'client-42',
    iat: nowS(),
    exp: nowS() + 300,
    scope: 'items:read items:write',
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(key);
}

function jwtApp(jwksUrl: string): Promise<RunningApp> {
  const auth = authSetup(
    { mode: 'jwt', reads: 'open', jwksUrl, issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256', 'ES256'], writeScope: 'items:write' },
    silent,
  );
  return startApp({ store: owner.store, auth });
}

beforeAll(async () => {
  ({ privateKey, publicKey } = await generateKeyPair('RS256'));
  ({ privateKey: otherKey } = await generateKeyPair('RS256'));
  jwks = await serveJwks(publicKey);
  owner = await startApp();
  app = await jwtApp(jwks.url);
  items = `${app.url}/api/items`;
}, 120_000); // opening the embedded store can take half a minute on a busy machine
afterAll(async () => {
  await app.close();
  await owner.close();
  // jose's fetches keep their connection alive; close it rather than wait for its timeout.
  jwks.server.closeAllConnections();
  jwks.server.close();
});

const write = (token: string) => postJson(items, { name: 'Widget' }, { authorization: `Bearer ${token}` });

describe('AUTH_MODE=jwt', () => {
  it('creates with a valid token: 201', async () => {
    expect((await write(await sign())).status).toBe(201);
  });

  it('accepts the scope as an `scp` list too', async () => {
    expect((await write(await sign({ scope: undefined, scp: ['items:write'] }))).status).toBe(201);
  });

  it.each([
    ['expired', () => sign({ exp: nowS() - 60 })],
    ['for another issuer', () => sign({ iss: 'https://evil.test/' })],
    ['for another audience', () => sign({ aud: 'another-api' })],
    ['without a subject', () => sign({ sub: undefined })],
    ['signed by another key under the same kid', () => sign({}, otherKey)],
    [
      'with alg none',
      () =>
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: nowS() + 300, scope: 'items:write' })}.`,
    ],
    [
      'HS256-signed with the public key (RS/HS confusion)',
      async () => {
        const head = `${b64url({ alg: 'HS256', typ: 'JWT', kid: KID })}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: nowS() + 300, scope: 'items:write' })}`;
        const pem = await exportSPKI(publicKey);
        return `${head}.${createHmac('sha256', pem).update(head).digest('base64url')}`;
      },
    ],
    ['that is not a JWT', () => 'not.a.jwt'],
  ])('refuses a token %s: 401 invalid_token', async (_what, token: () => string | Promise<string>) => {
    const res = await write(await token());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="rest-api", error="invalid_token"/);
    expect(await json<Problem>(res)).toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('answers a valid token without the write scope 403 on writes, 200 on reads', async () => {
    const token = await sign({ scope: 'items:read' });
    const before = await scrape(app.url);
    const res = await write(token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="rest-api", error="insufficient_scope", error_description="needs items:write", scope="items:write"',
    );
    expect(await json<Problem>(res)).toMatchObject({ status: 403, code: 'forbidden', title: 'Not allowed for this caller' });
    expect((await fetch(items, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const after = await scrape(app.url);
    const count = (exp: typeof after, name: string) => valueOf(exp, name, { method: 'POST', endpoint: '/api/items' });
    expect(count(after, METRIC.requests4xx) - count(before, METRIC.requests4xx)).toBe(1);
    expect(valueOf(after, METRIC.requests5xx)).toBe(0);
  });

  it('fetches the key set once and serves later tokens from its cache', async () => {
    const before = jwks.fetches;
    for (let i = 0; i < 5; i++) expect((await write(await sign())).status).toBe(201);
    expect(jwks.fetches - before).toBe(0);
    expect(jwks.fetches).toBe(1);
  });
});

describe('when the key set cannot be fetched', () => {
  let down: RunningApp;
  beforeAll(async () => {
    // A fresh app, so nothing is cached, in front of a key set host that answers 503.
    jwks.failing = true;
    down = await jwtApp(jwks.url);
  });
  afterAll(async () => {
    jwks.failing = false;
    await down.close();
  });

  it('answers a token that may be valid 503 with Retry-After: the dependency failed, not the caller', async () => {
    const res = await postJson(`${down.url}/api/items`, { name: 'x' }, { authorization: `Bearer ${await sign()}` });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await json<Problem>(res)).toMatchObject({ code: 'unavailable', detail: 'credentials cannot be checked right now' });
  });

  it('still answers a client-side bad token 401, without contacting the key set host', async () => {
    const before = jwks.fetches;
    for (const token of [
      await sign({ exp: nowS() - 60 }),
      await sign({ iss: 'https://evil.test/' }),
      await sign({ aud: 'x' }),
      'garbage',
    ]) {
      const res = await postJson(`${down.url}/api/items`, { name: 'x' }, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
    }
    expect(jwks.fetches).toBe(before);
    const exp = await scrape(down.url);
    expect(valueOf(exp, METRIC.requests4xx, { method: 'POST', endpoint: '/api/items' })).toBe(4);
  });
});
