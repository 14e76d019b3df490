/**
 * The deployment as two charts: the namespace, applied once by whoever owns it, and the app
 * (API, optional dev database, monitoring), which `kubectl apply`/`delete` can handle without
 * touching a namespace others may share.
 */
import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { DeployConfig } from './config';
import { Api } from './constructs/api';
import { ApiKeys } from './constructs/api-keys';
import { GrafanaDashboard } from './constructs/dashboard';
import { DevDatabase } from './constructs/database';
import { Monitoring, prometheusPodLabels } from './constructs/monitoring';
import { NetworkPolicies } from './constructs/network-policies';
import { commonLabels, selectorLabels } from './labels';
import { ANY_PROMETHEUS_POD } from './operator';

/** Kinds without a namespace: the chart's namespace must not be stamped on them. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

/**
 * Who may scrape the metrics port: the configured peers; else the bundled Prometheus; else any
 * operator-run Prometheus (its pods carry app.kubernetes.io/name: prometheus) in any namespace,
 * such as kube-prometheus-stack's in `monitoring`.
 */
export function metricsPeers(c: DeployConfig): readonly Record<string, unknown>[] {
  if (c.networkPolicy.metricsFrom !== undefined) return c.networkPolicy.metricsFrom;
  if (c.prometheus.enabled) return [{ podSelector: { matchLabels: prometheusPodLabels(c.name) } }];
  return [{ namespaceSelector: {}, podSelector: { matchLabels: { ...ANY_PROMETHEUS_POD } } }];
}

/** The app's namespace, with Pod Security Admission at `restricted` for enforce, warn and audit. */
export class NamespaceChart extends Chart {
  constructor(scope: Construct, id: string, config: DeployConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const pss = Object.fromEntries(
      ['enforce', 'warn', 'audit'].flatMap((mode) => [
        [`pod-security.kubernetes.io/${mode}`, 'restricted'],
        [`pod-security.kubernetes.io/${mode}-version`, 'latest'],
      ]),
    );
    new kplus.k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: config.namespace,
        labels: { ...commonLabels(config, 'namespace', config.image.tag), 'kubernetes.io/metadata.name': config.namespace, ...pss },
      },
    });
  }
}

export class RestApiChart extends Chart {
  constructor(scope: Construct, id: string, config: DeployConfig) {
    super(scope, id, { namespace: config.namespace, disableResourceNameHashes: true });

    new Api(this, 'api', { config });
    new ApiKeys(this, 'api-keys', { config });
    if (config.networkPolicy.enabled) new NetworkPolicies(this, 'network-policies', { config, metricsFrom: metricsPeers(config) });
    if (config.database.deploy) new DevDatabase(this, 'database', { config });
    new Monitoring(this, 'monitoring', { config, serviceLabels: selectorLabels(config, 'api') });
    if (config.grafana.dashboard.enabled) new GrafanaDashboard(this, 'dashboard', { config });

    for (const obj of this.node.findAll()) {
      if (obj instanceof ApiObject && CLUSTER_SCOPED.has(obj.kind)) obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }
  }
}
