/**
 * The Kubernetes defaults, run: the rendered API keys Job makes its Secret (against a stand-in
 * for the API server's Secret endpoints, named as such: no API server runs here), its data is laid
 * out as the kubelet mounts a Secret volume, and the real API starts with the rendered
 * Deployment's environment, its paths moved under a temporary directory. Writes then need the key
 * the cluster made, and a flood from one caller meets the rendered rate limit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { K8sObject } from '../../k8s/checks';
import { ofKind } from '../../k8s/objects';
import { freePort, startApi } from '../../tools/lib/processes';
import type { Managed } from '../../tools/lib/processes';
import { tempDir } from '../helpers/app';
import { manifests } from '../helpers/manifests';
import { decode, runSecretMaker, SecretApiStandIn } from '../helpers/secret-api-stand-in';

jest.setTimeout(60_000);

type Env = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
type Container = { env?: Env[]; volumeMounts?: { name: string; mountPath: string }[]; command?: string[] };

const plainEnv = (c: Container): Record<string, string> =>
  Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

describe('the rendered API with its default authentication', () => {
  const objects: K8sObject[] = manifests();
  const job = ofKind(objects, 'Job')[0]!;
  const deployment = ofKind(objects, 'Deployment')[0]!;
  const maker = job.spec!.template.spec!.containers[0] as Container;
  const api = deployment.spec!.template.spec!.containers[0] as Container;
  const secretApi = new SecretApiStandIn();
  let dir = '';
  let app: Managed;
  let key = '';

  beforeAll(async () => {
    dir = await tempDir('rendered-auth');
    const token = join(dir, 'token');
    writeFileSync(token, 'the-token\n');
    const made = await runSecretMaker(await secretApi.start(), token, { ...plainEnv(maker), SECRET_NAMESPACE: 'rest-api' });
    expect(made).toEqual({ code: 0, output: `Secret ${plainEnv(maker).SECRET_NAME} created\n` });

    // The Secret volume the Deployment mounts must be the one the Job made: its files are its keys.
    const env = plainEnv(api);
    const volume = deployment.spec!.template.spec!.volumes!.find((v) => v.secret?.secretName === plainEnv(maker).SECRET_NAME);
    expect(volume).toBeDefined();
    const mount = api.volumeMounts!.find((m) => m.name === volume!.name)!;
    expect(env.AUTH_API_KEYS_FILE!.startsWith(`${mount.mountPath}/`)).toBe(true);
    const mounted = join(dir, 'mount');
    mkdirSync(mounted);
    const data = decode(secretApi.secrets.get(plainEnv(maker).SECRET_NAME!)!);
    for (const [file, text] of Object.entries(data)) writeFileSync(join(mounted, file), text);
    key = Object.values(data)[0]!;

    const port = await freePort();
    app = await startApi(port, {
      ...env,
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      DATA_DIR: join(dir, 'data'),
      AUTH_API_KEYS_FILE: join(mounted, env.AUTH_API_KEYS_FILE!.slice(mount.mountPath.length + 1)),
      LOG_LEVEL: 'warn',
    });
  });
  afterAll(async () => {
    await app?.stop();
    await secretApi.stop();
  });

  const post = (headers: Record<string, string> = {}) =>
    fetch(`${app.url}/api/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ name: 'Widget' }),
    });

  it('holds no key in any manifest: the Job makes one of 40 random characters in the cluster', () => {
    expect(key).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(JSON.stringify(objects)).not.toContain(key);
    expect(ofKind(objects, 'Secret')).toEqual([]);
  });

  it('answers a write without credentials 401, with a wrong key 401, with the key 201', async () => {
    const anonymous = await post();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await post({ authorization: `Bearer ${'x'.repeat(40)}` })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${key}` })).status).toBe(201);
    // Reads stay open by default.
    expect((await fetch(`${app.url}/api/items`)).status).toBe(200);
  });

  it('meets a flood from one caller with 429s and Retry-After at the rendered limit, never a 5xx', async () => {
    const env = plainEnv(api);
    const burst = Number(env.RATE_LIMIT_BURST);
    const answers = await Promise.all(
      Array.from({ length: burst + 50 }, () => fetch(`${app.url}/api/items?limit=1`, { headers: { authorization: `Bearer ${key}` } })),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    // BURST per window of BURST / RPS seconds: a window that turns during the flood lets at most one more burst through.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(2 * burst);
    expect(answers.find((r) => r.status === 429)!.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
