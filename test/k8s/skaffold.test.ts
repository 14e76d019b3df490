import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import type { SchemaObject } from 'ajv';
import { parse } from 'yaml';
import { resolveConfig } from '../../k8s/config';
import { PORT_NAME } from '../../src/contract';
import { CHART_DIR } from '../../k8s/helm';
import { DEFAULT_OUTDIR } from '../../k8s/main';
import type { KindMap } from '../../k8s/objects';
import { PROJECT_ROOT } from '../../tools/lib/processes';
import { tempDir } from '../helpers/app';
import { HAVE_HELM, HELM_HOWTO, helmTemplate } from '../helpers/helm';
import { find, HAVE_SHARED_SCHEMAS, manifests, requireInCi, SHARED_SCHEMAS } from '../helpers/manifests';

const HAVE_PODMAN = spawnSync('podman', ['--version']).status === 0;
const HAVE_DOCKER_DAEMON = spawnSync('docker', ['info']).status === 0;

/** The parts of skaffold.yaml (skaffold/v4beta14) these tests read. */
interface Skaffold {
  apiVersion: string;
  build: {
    local: { push: boolean };
    artifacts: { image: string; custom: { buildCommand: string; dependencies: { paths: string[] } } }[];
  };
  manifests: { rawYaml: string[]; hooks: { before: unknown[] } };
  deploy: unknown;
  portForward: { port: number }[];
  profiles: { name: string; patches: { value: { helm: { releases?: HelmRelease[] } } }[] }[];
}

interface HelmRelease {
  name: string;
  namespace: string;
  chartPath: string;
  setValueTemplates: Record<string, string>;
}

// Cast, not checked here: the first test validates the file against skaffold's schema.
const skaffold = parse(readFileSync(join(PROJECT_ROOT, 'skaffold.yaml'), 'utf8')) as Skaffold;
const config = resolveConfig({});

/** The release of the helm profile's patch: the Helm chart. */
const helmRelease = (): HelmRelease => skaffold.profiles.find((p) => p.name === 'helm')!.patches[0]!.value.helm.releases![0]!;

describe('skaffold.yaml', () => {
  requireInCi('the skaffold schema test', HAVE_SHARED_SCHEMAS, `../shared/schemas is absent at ${SHARED_SCHEMAS}`);

  (HAVE_SHARED_SCHEMAS ? it : it.skip)('conforms to the skaffold v4beta14 schema', () => {
    const schema = JSON.parse(readFileSync(join(SHARED_SCHEMAS, 'skaffold', 'v4beta14.json'), 'utf8')) as SchemaObject;
    // The schema carries non-standard keywords (preferredOrder, x-intellij-...): non-strict.
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const valid = validate(skaffold);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(validate({ ...skaffold, deploy: { kubectl: { bogus: true } } })).toBe(false);
  });

  it('deploys exactly what `npm run synth` writes, rendered by the synth', () => {
    expect(skaffold.apiVersion).toBe('skaffold/v4beta14');
    expect(skaffold.manifests.rawYaml).toEqual([`${DEFAULT_OUTDIR}/${config.name}.yaml`]);
    expect(skaffold.manifests.hooks.before).toEqual([{ host: { command: ['npm', 'run', 'synth', '--silent'] } }]);
    // --force: the API keys Job gets each build's image, and a Job's pod template cannot be patched.
    expect(skaffold.deploy).toEqual({ kubectl: { flags: { apply: ['--force'] } } });
    expect(find(manifests(), 'Job').spec!.template.spec!.containers[0]!.image).toBe(`${config.image.repository}:${config.image.tag}`);
  });

  it('builds locally, without pushing, the image the Deployment uses, and watches k8s/', () => {
    expect(skaffold.build.local.push).toBe(false);
    const artifact = skaffold.build.artifacts[0]!;
    expect(artifact.image).toBe(config.image.repository);
    const deployment: KindMap['Deployment'] = find(manifests(), 'Deployment');
    const image = deployment.spec!.template.spec!.containers[0]!.image;
    // skaffold replaces image references whose repository is the artifact's name.
    expect(image?.split(':')[0]).toBe(artifact.image);
    expect(artifact.custom.dependencies.paths).toEqual(expect.arrayContaining(['src/**', 'k8s/**', 'Dockerfile']));
    expect(existsSync(join(PROJECT_ROOT, artifact.custom.buildCommand))).toBe(true);
  });

  it('forwards the API and Prometheus to 127.0.0.1 on ports the manifests expose', () => {
    const service: KindMap['Service'] = find(manifests(), 'Service', config.name);
    const [api, prometheus] = skaffold.portForward;
    expect(api).toMatchObject({
      resourceType: 'service',
      resourceName: config.name,
      namespace: config.namespace,
      address: '127.0.0.1',
      localPort: 8080,
    });
    expect(service.spec!.ports!.find((p) => p.name === PORT_NAME.http)!.port).toBe(api!.port);
    // prometheus-operated is the Service the operator creates for every Prometheus.
    expect(prometheus).toMatchObject({
      resourceName: 'prometheus-operated',
      namespace: config.namespace,
      port: 9090,
      address: '127.0.0.1',
      localPort: 9090,
    });
  });

  it('has a helm profile that installs the Helm chart with the built image', () => {
    const release = helmRelease();
    expect(release.chartPath).toBe(CHART_DIR);
    expect(release.setValueTemplates).toEqual({ 'image.repository': '{{.IMAGE_REPO_rest_api}}', 'image.tag': '{{.IMAGE_TAG_rest_api}}' });
    expect(existsSync(join(PROJECT_ROOT, CHART_DIR, 'Chart.yaml'))).toBe(true);
  });

  it("deploys skaffold's image through the chart: its repository and tag (a 64-hex id) render a valid Deployment", () => {
    requireInCi('the Helm chart tests', HAVE_HELM, HELM_HOWTO);
    if (!HAVE_HELM) return;
    const release = helmRelease();
    // What skaffold substitutes into setValueTemplates for a local build without push.
    const built: Record<string, string> = { IMAGE_REPO_rest_api: 'rest-api', IMAGE_TAG_rest_api: 'c'.repeat(64) };
    const sets = Object.entries(release.setValueTemplates).flatMap(([k, t]) => [
      '--set-string',
      `${k}=${t.replace(/\{\{\.(\w+)\}\}/g, (_m, v: string) => built[v]!)}`,
    ]);
    const objects = helmTemplate(release.name, release.namespace, sets);
    const deployment: KindMap['Deployment'] = find(objects, 'Deployment');
    expect(deployment.metadata!.name).toBe('rest-api');
    expect(deployment.spec!.template.spec!.containers[0]!.image).toBe(`rest-api:${'c'.repeat(64)}`);
    expect(deployment.metadata!.labels!['app.kubernetes.io/version']).toBe('c'.repeat(63));
  });

  it('is started by npm run dev:cluster through the wrapper that falls back to podman', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['dev:cluster']).toMatch(/^npm run synth && (.+ && )?scripts\/skaffold-dev\.sh dev$/);
  });

  describe('without a Docker daemon', () => {
    requireInCi('the podman fallback test', HAVE_PODMAN, 'install podman: apt-get install podman runc');
    // skaffold itself cannot run here: a stand-in makes the one call skaffold makes after a local
    // build with push: false, the image inspect (ImageID) over DOCKER_HOST, for an image in the
    // podman store the custom builder builds into.
    (HAVE_PODMAN && !HAVE_DOCKER_DAEMON ? it : it.skip)(
      "serves podman's Docker Engine API to skaffold, where the builder's images are",
      async () => {
        const dir = await tempDir('skaffold-dev');
        const standIn = join(dir, 'skaffold');
        writeFileSync(
          standIn,
          [
            '#!/usr/bin/env bash',
            'set -euo pipefail',
            'source scripts/podman-env.sh',
            'tar cf - --files-from /dev/null | podman import -q - localhost/skaffold-probe:"$1" >/dev/null',
            'node -e \'require("http").get({ socketPath: process.env.DOCKER_HOST.replace("unix://", ""), path: "/v1.41/images/localhost/skaffold-probe:" + process.argv[1] + "/json" }, (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => { console.log(r.statusCode, JSON.parse(b).Id); }); })\' "$1"',
            'podman rmi -f localhost/skaffold-probe:"$1" >/dev/null',
          ].join('\n'),
        );
        chmodSync(standIn, 0o755);
        const env: Record<string, string> = { PATH: process.env.PATH!, HOME: process.env.HOME!, SKAFFOLD: standIn };
        const r = spawnSync(join(PROJECT_ROOT, 'scripts', 'skaffold-dev.sh'), ['t1'], { env, encoding: 'utf8', timeout: 90_000 });
        expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: 0 });
        expect(r.stderr).toContain('podman serves the Docker API');
        expect(r.stdout).toMatch(/^200 (sha256:)?[0-9a-f]{64}\n$/);
      },
      120_000,
    );
  });
});
