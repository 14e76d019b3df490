/**
 * `npm run synth`: writes the app's manifests to dist/<name>.yaml, its namespace to
 * dist/namespace/ (a subfolder, so `kubectl delete -f dist/` leaves the namespace alone), the
 * plain Prometheus files to dist/local/, the Grafana dashboard to dist/grafana/ and its local
 * provisioning to dist/local/grafana/. The wiring and pod-security checks run first; any
 * finding stops the synth before it writes.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import type { Chart } from 'cdk8s';
import { NamespaceChart, RestApiChart } from './chart';
import { DeployConfigError, loadDeployConfig } from './config';
import type { DeployConfig } from './config';
import { checkWiring } from './checks';
import type { CheckOptions, Finding, K8sObject } from './checks';
import { grafanaOutputFiles } from './grafana-local';
import { localFiles } from './local';
import { checkPodSecurity } from './pss';

export const DEFAULT_OUTDIR = 'dist';

export class SynthCheckError extends Error {
  constructor(readonly findings: readonly Finding[]) {
    super(
      `the synthesized manifests fail ${findings.length} check(s):\n${findings.map((f) => `  [${f.check}] ${f.message}\n    fix: ${f.fix}`).join('\n')}`,
    );
    this.name = 'SynthCheckError';
  }
}

/** Every check the synth enforces: wiring and pod security. */
export function checkManifests(objects: readonly K8sObject[], options: CheckOptions = {}): Finding[] {
  return [...checkWiring(objects, options), ...checkPodSecurity(objects)];
}

export const NAMESPACE_OUTDIR = 'namespace';

function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Makes `outdir` hold exactly the files of `staged`, writing only those whose content changed:
 * skaffold watches the rendered manifests by modification time, so rewriting unchanged files
 * would make every render trigger the next one.
 */
function syncInto(staged: string, outdir: string): void {
  const wanted = new Set(filesUnder(staged).map((f) => relative(staged, f)));
  for (const file of wanted) {
    const text = readFileSync(join(staged, file));
    const target = join(outdir, file);
    let current: Buffer | undefined;
    try {
      current = statSync(target).isFile() ? readFileSync(target) : undefined;
    } catch {
      current = undefined;
    }
    if (current !== undefined && current.equals(text)) continue;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  for (const file of filesUnder(outdir).map((f) => relative(outdir, f))) {
    if (!wanted.has(file)) rmSync(join(outdir, file));
  }
}

/** Synthesizes everything for `config` into `outdir`; returns the manifest objects. */
export function synth(config: DeployConfig, outdir: string = DEFAULT_OUTDIR): Record<string, unknown>[] {
  const staged = mkdtempSync(join(tmpdir(), 'synth-'));
  try {
    const objects = synthInto(config, staged);
    syncInto(staged, outdir);
    return objects;
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
}

/** cdk8s gives a chart's manifests as `any[]`: plain JSON objects, of kinds the checks narrow. */
function manifestObjects(chart: Chart): K8sObject[] {
  return chart.toJson() as K8sObject[];
}

function synthInto(config: DeployConfig, outdir: string): Record<string, unknown>[] {
  const app = new App({ outdir, outputFileExtension: '.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new RestApiChart(app, config.name, config);
  const nsApp = new App({
    outdir: join(outdir, NAMESPACE_OUTDIR),
    outputFileExtension: '.yaml',
    yamlOutputType: YamlOutputType.FILE_PER_CHART,
  });
  const nsChart = new NamespaceChart(nsApp, config.namespace, config);
  const objects = [...manifestObjects(nsChart), ...manifestObjects(chart)];
  // Without the bundled Prometheus, the one that selects the app lives in the cluster: verify checks it there.
  const findings = checkManifests(objects, { prometheusInCluster: !config.prometheus.enabled });
  if (findings.length > 0) throw new SynthCheckError(findings);
  app.synth();
  nsApp.synth();
  mkdirSync(join(outdir, 'local'), { recursive: true });
  for (const [file, text] of Object.entries(localFiles(config))) writeFileSync(join(outdir, 'local', file), text);
  for (const [file, text] of Object.entries(grafanaOutputFiles(config, config.serviceMonitor.interval))) {
    mkdirSync(dirname(join(outdir, file)), { recursive: true });
    writeFileSync(join(outdir, file), text);
  }
  return objects;
}

if (require.main === module) {
  try {
    const outdir = process.env.SYNTH_OUTDIR || DEFAULT_OUTDIR;
    const objects = synth(loadDeployConfig(), outdir);
    process.stdout.write(`synthesized ${objects.length} objects into ${outdir}/ and ${outdir}/local/\n`);
  } catch (err) {
    if (!(err instanceof DeployConfigError) && !(err instanceof SynthCheckError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
