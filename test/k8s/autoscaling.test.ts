/**
 * Autoscaling and the scaled-out Prometheus as both paths render them (the synth and the real
 * helm, from the same keys): the HPA or ScaledObject and the Deployment without replicas, where
 * KEDA asks, the Prometheus replicas' spread, budget and Thanos sidecar, and the values both
 * refuse, naming the keys.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KPS_PROMETHEUS_URL } from '../../k8s/constructs/autoscaling';
import type { K8sObject } from '../../k8s/objects';
import { HAVE_HELM, helmTemplate, helmTemplateError } from '../helpers/helm';
import { appManifests, find, SCALE_OUT_VALUES_FILE } from '../helpers/manifests';

const SCALE_OUT = parse(readFileSync(SCALE_OUT_VALUES_FILE, 'utf8')) as Record<string, unknown>;

/** Both renders of `values`: the synth's, and helm's (release and namespace rest-api) when helm is here. */
function renders(values: Record<string, unknown>): [string, K8sObject[]][] {
  const synth: [string, K8sObject[]] = ['synth', appManifests(values)];
  if (!HAVE_HELM) return [synth];
  const file = join(mkdtempSync(join(tmpdir(), 'autoscaling-')), 'values.json');
  writeFileSync(file, JSON.stringify(values));
  return [synth, ['helm', helmTemplate('rest-api', 'rest-api', ['--skip-tests', '-f', file])]];
}

describe.each(renders({ autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 7 } }))('the HPA (%s)', (_path, objects) => {
  it('scales the Deployment on CPU between the bounds, and the Deployment leaves replicas to it', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'rest-api' },
      minReplicas: 3,
      maxReplicas: 7,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    expect(find(objects, 'Deployment').spec).not.toHaveProperty('replicas');
    expect(find(objects, 'Deployment').spec!.template.spec!.containers[0]!.resources!.requests!.cpu).toBe('100m');
    expect(objects.filter((o) => o.kind === 'ScaledObject')).toEqual([]);
  });
});

describe.each(renders(SCALE_OUT))('the scale-out values (%s)', (_path, objects) => {
  it('render a ScaledObject instead of the HPA, asking the bundled Prometheus for the recorded rate', () => {
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    const so = find(objects, 'ScaledObject');
    expect(so.spec.minReplicaCount).toBe(3);
    expect(so.spec.maxReplicaCount).toBe(12);
    expect(so.spec.triggers).toEqual([
      {
        type: 'prometheus',
        metricType: 'AverageValue',
        metadata: {
          serverAddress: 'http://rest-api-prometheus.rest-api.svc:9090',
          query: 'sum(namespace_job_pod:http_requests:rate1m{namespace="rest-api",job="rest-api"})',
          threshold: '40',
          ignoreNullValues: 'false',
        },
      },
      { type: 'cpu', metricType: 'Utilization', metadata: { value: '80' } },
    ]);
    expect(find(objects, 'Service', 'rest-api-prometheus').spec!.selector).toEqual({
      'app.kubernetes.io/name': 'prometheus',
      'operator.prometheus.io/name': 'rest-api',
    });
  });

  it("admit KEDA's operator to the bundled Prometheus only, on 9090", () => {
    const ingress = find(objects, 'NetworkPolicy', 'rest-api-prometheus').spec!.ingress!;
    expect(ingress.at(-1)).toEqual({
      from: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } },
          podSelector: { matchLabels: { app: 'keda-operator' } },
        },
      ],
      ports: [{ port: 9090, protocol: 'TCP' }],
    });
    expect(JSON.stringify(find(objects, 'NetworkPolicy', 'rest-api').spec)).not.toContain('keda');
  });

  it('spread the two Prometheus replicas, give them a budget, a replica label and the Thanos sidecar', () => {
    const spec = find(objects, 'Prometheus').spec;
    const pods = { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': 'rest-api' };
    expect(spec).toMatchObject({
      replicas: 2,
      replicaExternalLabelName: 'prometheus_replica',
      externalLabels: { cluster: 'shop-eu-1' },
      thanos: { objectStorageConfig: { name: 'thanos-objstore', key: 'objstore.yml' } },
    });
    expect(spec.affinity!.podAntiAffinity!.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: pods } } },
    ]);
    expect(find(objects, 'PodDisruptionBudget', 'rest-api-prometheus').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: pods },
    });
    expect(find(objects, 'PodDisruptionBudget', 'rest-api').spec!.maxUnavailable).toBe(1);
    expect(find(objects, 'NetworkPolicy', 'rest-api-prometheus').spec!.ingress![0]!.ports).toEqual([
      { port: 9090, protocol: 'TCP' },
      { port: 10901, protocol: 'TCP' },
    ]);
  });
});

it("asks kube-prometheus-stack's Prometheus without the bundled one, or the address given", () => {
  const keda = { autoscaling: { enabled: true, keda: { enabled: true } } };
  const address = (values: Record<string, unknown>) => find(appManifests(values), 'ScaledObject').spec.triggers[0]!.metadata.serverAddress;
  expect(address({ ...keda, prometheus: { enabled: false }, alertmanager: { enabled: false } })).toBe(KPS_PROMETHEUS_URL);
  expect(
    address({ autoscaling: { ...keda.autoscaling, keda: { enabled: true, serverAddress: 'http://thanos-query.monitoring:9090' } } }),
  ).toBe('http://thanos-query.monitoring:9090');
  expect(
    appManifests({})
      .filter((o) => ['PodDisruptionBudget'].includes(o.kind!))
      .map((o) => o.metadata?.name),
  ).toEqual(['rest-api']);
});

describe('values that would break scaling are refused by both paths, naming the keys', () => {
  // [case, values, the same for helm, the key named, what both say about it]
  it.each<[string, Record<string, unknown>, string[], string, string]>([
    [
      'minReplicas below 2',
      { autoscaling: { enabled: true, minReplicas: 1 } },
      ['--set', 'autoscaling.minReplicas=1'],
      'autoscaling',
      'minReplicas',
    ],
    [
      'maxReplicas below minReplicas',
      { autoscaling: { enabled: true, minReplicas: 4, maxReplicas: 3 } },
      ['--set', 'autoscaling.minReplicas=4,autoscaling.maxReplicas=3'],
      'autoscaling.maxReplicas',
      'must not be less than autoscaling.minReplicas (4)',
    ],
    [
      'KEDA without autoscaling',
      { autoscaling: { keda: { enabled: true } } },
      ['--set', 'autoscaling.keda.enabled=true'],
      'autoscaling.keda.enabled',
      'needs autoscaling.enabled',
    ],
    [
      'a rate window of fewer than 4 scrapes',
      { autoscaling: { enabled: true, keda: { enabled: true, window: '30s' } } },
      ['--set', 'autoscaling.enabled=true,autoscaling.keda.enabled=true,autoscaling.keda.window=30s'],
      'autoscaling.keda.window',
      'must cover at least 4 scrapes',
    ],
    [
      'KEDA without the recording rules',
      { autoscaling: { enabled: true, keda: { enabled: true } }, prometheusRule: { enabled: false } },
      ['--set', 'autoscaling.enabled=true,autoscaling.keda.enabled=true,prometheusRule.enabled=false'],
      'autoscaling.keda.enabled',
      'needs prometheusRule.enabled',
    ],
    [
      'an external label the operator sets',
      { prometheus: { externalLabels: { prometheus_replica: 'x' } } },
      ['--set', 'prometheus.externalLabels.prometheus_replica=x'],
      'prometheus.externalLabels.prometheus_replica',
      'is set by the Prometheus Operator',
    ],
  ])('%s', (_case, values, helmArgs, key, text) => {
    expect(() => appManifests(values)).toThrow(key);
    expect(() => appManifests(values)).toThrow(text);
    if (!HAVE_HELM) return;
    const error = helmTemplateError(helmArgs);
    expect(error).toContain(key);
    expect(error).toContain(text);
  });
});
