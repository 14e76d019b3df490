/** The whole deployment as one chart: namespace, API, optional dev database, monitoring. */
import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { DeployConfig } from './config';
import { Api } from './constructs/api';
import { GrafanaDashboard } from './constructs/dashboard';
import { DevDatabase } from './constructs/database';
import { Monitoring, prometheusPodLabels } from './constructs/monitoring';
import { commonLabels, selectorLabels } from './labels';

/** Kinds without a namespace: the chart's namespace must not be stamped on them. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

export class RestApiChart extends Chart {
  constructor(scope: Construct, id: string, config: DeployConfig) {
    super(scope, id, { namespace: config.namespace, disableResourceNameHashes: true });

    new kplus.k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: config.namespace,
        labels: {
          ...commonLabels(config, 'namespace', config.image.tag),
          'kubernetes.io/metadata.name': config.namespace,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    });
    const api = new Api(this, 'api', { config, prometheusPodLabels: prometheusPodLabels(config.name) });
    if (config.database.deploy) new DevDatabase(this, 'database', { config });
    new Monitoring(this, 'monitoring', { config, serviceLabels: selectorLabels(config, 'api') });
    if (config.grafana.dashboard.enabled) new GrafanaDashboard(this, 'dashboard', { config });
    void api;

    for (const obj of this.node.findAll()) {
      if (obj instanceof ApiObject && CLUSTER_SCOPED.has(obj.kind)) obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }
  }
}
