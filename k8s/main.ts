/**
 * `npm run synth`: writes the cluster manifests to dist/, the plain Prometheus files to
 * dist/local/, the Grafana dashboard to dist/grafana/ and its local provisioning to
 * dist/local/grafana/, then runs the wiring checks over what it wrote and fails on any finding.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import { RestApiChart } from './chart';
import { DeployConfigError, loadDeployConfig } from './config';
import type { DeployConfig } from './config';
import { checkWiring } from './checks';
import type { Finding, K8sObject } from './checks';
import { grafanaOutputFiles } from './grafana-local';
import { localFiles } from './local';
import { checkPodSecurity } from './pss';

export const DEFAULT_OUTDIR = 'dist';

export class SynthCheckError extends Error {
  constructor(readonly findings: readonly Finding[]) {
    super(`the synthesized manifests fail ${findings.length} check(s):\n${findings.map((f) => `  [${f.check}] ${f.message}\n    fix: ${f.fix}`).join('\n')}`);
    this.name = 'SynthCheckError';
  }
}

/** Every check the synth enforces: wiring and pod security. */
export function checkManifests(objects: readonly K8sObject[]): Finding[] {
  return [...checkWiring(objects), ...checkPodSecurity(objects)];
}

/** Synthesizes everything for `config` into `outdir`; returns the manifest objects. */
export function synth(config: DeployConfig, outdir: string = DEFAULT_OUTDIR): Record<string, unknown>[] {
  rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir, outputFileExtension: '.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new RestApiChart(app, config.name, config);
  const findings = checkManifests(chart.toJson() as K8sObject[]);
  if (findings.length > 0) throw new SynthCheckError(findings);
  app.synth();
  mkdirSync(join(outdir, 'local'), { recursive: true });
  for (const [file, text] of Object.entries(localFiles(config))) writeFileSync(join(outdir, 'local', file), text);
  for (const [file, text] of Object.entries(grafanaOutputFiles(config, config.monitoring.scrapeInterval))) {
    mkdirSync(dirname(join(outdir, file)), { recursive: true });
    writeFileSync(join(outdir, file), text);
  }
  return chart.toJson() as Record<string, unknown>[];
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
