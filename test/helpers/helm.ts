/** The real helm (v4) binary that `npm run test-tools` unpacks into .tools/bin/, for the chart tests. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from '../../k8s/checks';
import { CHART_DIR } from '../../k8s/helm';
import { PROJECT_ROOT } from '../../tools/lib/processes';

export const HELM = join(PROJECT_ROOT, '.tools', 'bin', 'helm');
export const HAVE_HELM = existsSync(HELM);
export const CHART = join(PROJECT_ROOT, CHART_DIR);
export const HELM_HOWTO = `${HELM} is missing: run npm run test-tools (after npm ci)`;

export interface HelmResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with `args`, offline and without a kube config. */
export function helm(args: readonly string[]): HelmResult {
  const r = spawnSync(HELM, args, {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: '/dev/null',
      HELM_CACHE_HOME: join(PROJECT_ROOT, '.tools', 'helm-cache'),
      HELM_CONFIG_HOME: join(PROJECT_ROOT, '.tools', 'helm-config'),
      HELM_DATA_HOME: join(PROJECT_ROOT, '.tools', 'helm-data'),
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template <release> <chart> -n <namespace> <args>`, parsed; throws with helm's message when it fails. */
export function helmTemplate(release: string, namespace: string, args: readonly string[] = []): K8sObject[] {
  const r = helm(['template', release, CHART, '--namespace', namespace, ...args]);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  // helm prints Kubernetes objects and empty documents: each map is taken as a K8sObject.
  const docs = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as unknown)
    .filter((o) => o !== null);
  const objects = docs.filter((o): o is K8sObject => typeof o === 'object' && o !== null && !Array.isArray(o));
  if (objects.length !== docs.length) throw new Error(`helm template printed a document that is not an object:\n${r.stdout}`);
  return objects;
}

/** helm's error message for a render that must fail (empty when it rendered). */
export function helmTemplateError(args: readonly string[]): string {
  const r = helm(['template', 'rest-api', CHART, '--namespace', 'rest-api', ...args]);
  return r.status === 0 ? '' : r.stderr;
}
