#!/usr/bin/env node
/**
 * `npm run verify`: does Prometheus really scrape the app and load its alerts?
 *   --manifests DIR   offline: the wiring checks over a directory of manifests
 *   (default)         live: the current kubeconfig context, then Prometheus itself
 * Prints a checklist (or --output json); exits 0 when every check holds, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { ALERT } from '../k8s/alerts';
import { loadDeployConfig } from '../k8s/config';
import { SLO_ALERT } from '../k8s/burn-rates';
import { PrometheusApi } from './lib/prometheus-api';
import { Checklist } from './verify/checklist';
import { verifyLive } from './verify/live';
import { readManifests } from './verify/offline';
import { addPrometheusChecks } from './verify/prometheus';
import { addWiringChecks, othersPrometheus } from './verify/wiring';

const HELP = `usage: npm run verify -- [options]
  --manifests PATH      check manifests offline (a file, or a directory such as dist/) instead of
                        a cluster; repeat it to add the cluster's Prometheus, e.g.
                        --manifests dist --manifests prometheus.yaml
  --context NAME        kubeconfig context (default: the current one)
  --kubeconfig FILE     kubeconfig file (default: $KUBECONFIG or ~/.kube/config)
  --namespace NS        the app's namespace (default: from the deploy config, rest-api)
  --name NAME           the app's name and job (default: from the deploy config, rest-api)
  --prometheus-url URL  ask this Prometheus directly instead of through the API server
                        (with --manifests: also ask it, e.g. http://localhost:9090)
  --output text|json    output format (default text)`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        manifests: { type: 'string', multiple: true },
        context: { type: 'string' },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        name: { type: 'string' },
        'prometheus-url': { type: 'string' },
        output: { type: 'string', default: 'text' },
        help: { type: 'boolean', default: false },
      },
    }));
    if (values.output !== 'text' && values.output !== 'json') throw new Error(`--output must be text or json, not ${values.output}`);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const config = loadDeployConfig([], process.env);
  const name = values.name ?? config.name;
  const namespace = values.namespace ?? config.namespace;
  const json = values.output === 'json';
  const list = new Checklist(json ? undefined : process.stdout);

  if (values.manifests !== undefined) {
    const where = values.manifests.join(', ');
    const { objects, files } = readManifests(values.manifests);
    if (!json) process.stdout.write(`verify: ${objects.length} objects from ${files.length} file(s) in ${where}\n`);
    if (objects.length === 0)
      list.fail(
        'manifests',
        `manifests found in ${where}`,
        'run npm run synth, or point --manifests at your manifests',
        'no Kubernetes object in any .yaml, .yml or .json file',
      );
    else addWiringChecks(list, objects, { warnOnly: othersPrometheus(namespace) });
    if (values['prometheus-url'] !== undefined) {
      await addPrometheusChecks(
        list,
        new PrometheusApi(values['prometheus-url']),
        { job: name, namespace },
        [...Object.values(ALERT), ...Object.values(SLO_ALERT)],
        values['prometheus-url'],
      );
    }
  } else {
    if (!json) process.stdout.write(`verify: ${name} in namespace ${namespace}${values.context ? ` (context ${values.context})` : ''}\n`);
    await verifyLive(list, {
      kubeconfig: values.kubeconfig,
      context: values.context,
      namespace,
      name,
      prometheusUrl: values['prometheus-url'],
      ...(config.autoscaling.enabled && { autoscaler: config.autoscaling.keda.enabled ? 'ScaledObject' : 'HorizontalPodAutoscaler' }),
    });
  }

  if (json) process.stdout.write(`${JSON.stringify(list.toJson())}\n`);
  else {
    const failed = list.items.filter((i) => i.status === 'fail').length;
    const skipped = list.skipped.length;
    const ran = list.items.length - skipped;
    const summary = failed === 0 ? `all ${ran} checks that could run hold` : `${failed} of ${ran} checks failed`;
    process.stdout.write(`\n${summary}${skipped > 0 ? `; ${skipped} could not run (marked ?)` : ''}\n`);
  }
  return list.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`verify failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
