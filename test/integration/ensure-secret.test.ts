/**
 * The script that makes Secrets in the cluster (k8s/ensure-secret.ts), run with node as the
 * development database's init container and the API keys Job run it. No API server runs here: a stand-in (a small HTTP
 * server speaking the Secret endpoints of the Kubernetes API, named as such) answers it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devDatabaseSecret } from '../../k8s/constructs/database';
import type { SecretSpec } from '../../k8s/ensure-secret';
import { tempDir } from '../helpers/app';
import { decode, runSecretMaker, SecretApiStandIn } from '../helpers/secret-api-stand-in';

describe('the secret script of the init container', () => {
  const api = new SecretApiStandIn();
  let url = '';
  let tokenFile = '';
  beforeAll(async () => {
    url = await api.start();
    tokenFile = join(await tempDir('token'), 'token');
    writeFileSync(tokenFile, 'the-token\n');
  });
  afterAll(() => api.stop());

  const run = (spec: SecretSpec) =>
    runSecretMaker(url, tokenFile, {
      SECRET_NAME: 'rest-api-database',
      SECRET_NAMESPACE: 'shop',
      SECRET_SPEC: JSON.stringify(spec),
      SECRET_LABELS: JSON.stringify({ 'app.kubernetes.io/instance': 'rest-api' }),
    });

  it('creates the Secret with a random password, the URL made from it, and keeps it on every later run', async () => {
    const spec = devDatabaseSecret('DATABASE_URL', 'rest-api-postgres');
    expect(await run(spec)).toEqual({ code: 0, output: 'Secret rest-api-database created\n' });
    const first = decode(api.secrets.get('rest-api-database')!);
    expect(first.POSTGRES_PASSWORD).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(first).toEqual({
      POSTGRES_USER: 'rest_api',
      POSTGRES_PASSWORD: first.POSTGRES_PASSWORD,
      POSTGRES_DB: 'rest_api',
      DATABASE_URL: `postgres://rest_api:${first.POSTGRES_PASSWORD}@rest-api-postgres:5432/rest_api`,
    });
    expect(api.secrets.get('rest-api-database')!.metadata.labels).toEqual({ 'app.kubernetes.io/instance': 'rest-api' });
    // A restart, an upgrade, a reinstall: the Secret outlives them and the password stays.
    expect(await run(spec)).toEqual({ code: 0, output: 'Secret rest-api-database exists: kept as it is\n' });
    expect(decode(api.secrets.get('rest-api-database')!)).toEqual(first);
    expect(api.requests.every((r) => r.endsWith('Bearer the-token'))).toBe(true);
  });

  it('adds a key the spec gained (an API key) without touching the others', async () => {
    const before = decode(api.secrets.get('rest-api-database')!);
    const spec = { ...devDatabaseSecret('DATABASE_URL', 'rest-api-postgres'), API_KEY: { random: 40 } };
    expect(await run(spec)).toEqual({ code: 0, output: 'Secret rest-api-database exists: added API_KEY\n' });
    const after = decode(api.secrets.get('rest-api-database')!);
    expect(after.API_KEY).toMatch(/^[A-Za-z0-9]{40}$/);
    expect({ ...after, API_KEY: undefined }).toEqual({ ...before, API_KEY: undefined });
  });

  it('exits 1 naming the error when the API server cannot be reached (the pod then restarts the init container)', async () => {
    const saved = url;
    url = 'http://127.0.0.1:1';
    const r = await run({ A: { value: 'a' } });
    url = saved;
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/ECONNREFUSED/);
  });
});
