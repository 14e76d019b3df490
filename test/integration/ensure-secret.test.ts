/**
 * The script that makes the development database's Secret in the cluster (k8s/ensure-secret.ts),
 * run with node as the init container runs it. No API server runs here: a stand-in (a small HTTP
 * server speaking the Secret endpoints of the Kubernetes API, named as such) answers it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devDatabaseSecret } from '../../k8s/constructs/database';
import { ENSURE_SECRET_SCRIPT } from '../../k8s/ensure-secret';
import type { SecretSpec } from '../../k8s/ensure-secret';
import { tempDir } from '../helpers/app';

interface StoredSecret {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  data: Record<string, string>;
}

/** Stand-in for the API server's Secret endpoints in one namespace, with the requests it saw. */
class SecretApiStandIn {
  readonly secrets = new Map<string, StoredSecret>();
  readonly requests: string[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.close();
    if (this.server) await once(this.server, 'close');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    this.requests.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    const send = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(req.url ?? '');
    if (m === null) return void send(404, { kind: 'Status', code: 404 });
    const [, , name] = m;
    if (req.method === 'GET') return void (this.secrets.has(name!) ? send(200, this.secrets.get(name!)) : send(404, { code: 404 }));
    if (req.method === 'POST') {
      const secret = JSON.parse(body) as StoredSecret;
      if (this.secrets.has(secret.metadata.name)) return void send(409, { code: 409 });
      this.secrets.set(secret.metadata.name, secret);
      return void send(201, secret);
    }
    if (req.method === 'PATCH' && req.headers['content-type'] === 'application/merge-patch+json') {
      const secret = this.secrets.get(name!)!;
      Object.assign(secret.data, (JSON.parse(body) as StoredSecret).data);
      return void send(200, secret);
    }
    send(405, { code: 405 });
  }
}

const decode = (s: StoredSecret) => Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

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

  async function run(spec: SecretSpec): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, ['-e', ENSURE_SECRET_SCRIPT], {
      env: {
        KUBERNETES_API_URL: url,
        KUBERNETES_TOKEN_FILE: tokenFile,
        SECRET_NAME: 'rest-api-database',
        SECRET_NAMESPACE: 'shop',
        SECRET_SPEC: JSON.stringify(spec),
        SECRET_LABELS: JSON.stringify({ 'app.kubernetes.io/instance': 'rest-api' }),
      },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, output };
  }

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
