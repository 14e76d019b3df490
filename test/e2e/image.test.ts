/**
 * The real image, built from the Dockerfile unchanged with podman (local stand-in base image,
 * --pull=never) and run as Kubernetes runs it: an arbitrary non-root UID, a read-only root
 * filesystem, writable /tmp and data directory only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, PROJECT_ROOT, SERVER_NODE_FLAGS, waitFor } from '../../tools/lib/processes';
import { loadConfig } from '../../src/config';
import { DEFAULT_METRICS_PORT, DEFAULT_PORT } from '../../src/contract';
import { requireInCi } from '../helpers/manifests';

const HAVE_PODMAN = spawnSync('podman', ['--version']).status === 0 && spawnSync('debootstrap', ['--version']).status === 0;
requireInCi('the container image tests', HAVE_PODMAN, 'install podman: apt-get install podman runc debootstrap');
const TAG = 'localhost/rest-api:test';

/** The part of `podman image inspect`'s `.Config` the tests read. */
interface ImageConfig {
  readonly User: string;
  readonly Labels: Record<string, string>;
  readonly Cmd: readonly string[];
  readonly Env: readonly string[];
}
/** The image's default keep-alive timeout (KEEP_ALIVE_TIMEOUT_MS unset). */
const KEEP_ALIVE_TIMEOUT_S = loadConfig({}).keepAliveTimeoutMs / 1000;

/** podman with the sandbox settings of scripts/podman-env.sh. */
function podman(...args: string[]): string {
  return execFileSync('bash', ['-c', 'source scripts/podman-env.sh && exec podman "$@"', 'podman', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  }).trim();
}

(HAVE_PODMAN ? describe : describe.skip)('the container image', () => {
  const name = `rest-api-test-${process.pid}`;
  let port: number;

  beforeAll(() => {
    execFileSync(join(PROJECT_ROOT, 'scripts', 'stand-in-base-image.sh'), { stdio: 'inherit' });
    execFileSync(join(PROJECT_ROOT, 'scripts', 'image-build.sh'), [TAG], { stdio: 'inherit' });
  }, 900_000);

  afterAll(() => {
    spawnSync('bash', ['-c', `source scripts/podman-env.sh && podman rm -f ${name}`], { cwd: PROJECT_ROOT });
  });

  it('runs as a numeric non-root user, with OCI labels', () => {
    const config = JSON.parse(podman('image', 'inspect', '--format', '{{json .Config}}', TAG)) as ImageConfig;
    expect(config.User).toBe('10001:10001');
    expect(config.Labels['org.opencontainers.image.version']).toBe('0.1.0');
    expect(config.Cmd).toEqual(['node', ...SERVER_NODE_FLAGS, 'build/src/server.js']);
    // /metrics on its own port by default, never on the public one.
    expect(config.Env).toEqual(expect.arrayContaining([`PORT=${DEFAULT_PORT}`, `METRICS_PORT=${DEFAULT_METRICS_PORT}`]));
    const size = Number(podman('image', 'inspect', '--format', '{{.Size}}', TAG));
    process.stdout.write(`image size: ${(size / 2 ** 20).toFixed(0)} MiB\n`);
  });

  it('serves under an arbitrary UID on a read-only root filesystem, and stops cleanly on SIGTERM', async () => {
    port = await freePort();
    const metricsPort = await freePort();
    podman(
      'run',
      '-d',
      '--name',
      name,
      '--read-only',
      '--user',
      '25000:25000',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/var/lib/rest-api',
      '--network',
      'host',
      '-e',
      `PORT=${port}`,
      '-e',
      `METRICS_PORT=${metricsPort}`,
      TAG,
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the container to be ready', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined), 60_000);
    const created = await fetch(`${base}/api/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"in a container"}',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('http_requests_total{method="POST",endpoint="/api/items",status="201"} 1');
    // The alerts' default runbook_url resolves in the image.
    const runbooks = await fetch(`${base}/runbooks`);
    expect(runbooks.status).toBe(200);
    expect(await runbooks.text()).toContain('## RestApiNotReady');

    const t0 = Date.now();
    podman('stop', '-t', '10', name);
    const stopSeconds = (Date.now() - t0) / 1000;
    process.stdout.write(`podman stop took ${stopSeconds.toFixed(2)} s\n`);
    expect(podman('inspect', '--format', '{{.State.ExitCode}}', name)).toBe('0');
    // This test's own fetch client keeps an idle keep-alive connection open: the server lets it
    // close at the keep-alive timeout (5 s by default) rather than cut it under a request the
    // client may be sending, so a clean stop takes up to that long, well within `-t 10`.
    expect(stopSeconds).toBeLessThan(KEEP_ALIVE_TIMEOUT_S + 3);
    expect(podman('logs', name)).toContain('shutdown complete');
  }, 120_000);
});
