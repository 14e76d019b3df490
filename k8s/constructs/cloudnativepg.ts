/**
 * PostgreSQL on CloudNativePG: one Cluster (postgresql.cnpg.io/v1), whose operator runs the
 * instances, promotes a replica when the primary fails, points the `<cluster>-rw` Service at
 * the new primary and keeps the application user's credentials in the Secret `<cluster>-app`
 * (key `uri`), which the API reads. With monitoring on, the operator also makes a PodMonitor,
 * labelled with spec.inheritedMetadata's labels so that the Prometheus scraping the app selects it.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { CNPG_API_VERSION } from '../cnpg';
import { cnpgClusterName } from '../config';
import type { DeployConfig } from '../config';
import { commonLabels, selectorLabels } from '../labels';
import type { Labels } from '../labels';

/**
 * Labels the operator copies onto the Cluster's pods, Services, Secrets and PodMonitor: the
 * database's selector labels (which the bundled Prometheus selects PodMonitors by) and the
 * labels another Prometheus selects by (serviceMonitor.additionalLabels, e.g. release: kps).
 */
export function cnpgInheritedLabels(c: DeployConfig): Labels {
  return { ...c.serviceMonitor.additionalLabels, ...selectorLabels(c, 'database') };
}

export class CloudNativePgCluster extends Construct {
  constructor(scope: Construct, id: string, props: { readonly config: DeployConfig }) {
    super(scope, id);
    const c = props.config;
    const db = c.database.cloudnativepg;
    new ApiObject(this, 'cluster', {
      apiVersion: CNPG_API_VERSION,
      kind: 'Cluster',
      metadata: { name: cnpgClusterName(c.name), labels: commonLabels(c, 'database', c.image.tag) },
      spec: {
        instances: db.instances,
        inheritedMetadata: { labels: cnpgInheritedLabels(c) },
        storage: { size: db.storage.size, ...(db.storage.storageClass !== undefined && { storageClass: db.storage.storageClass }) },
        resources: db.resources,
        bootstrap: { initdb: { database: db.database, owner: db.owner } },
        monitoring: { enablePodMonitor: c.serviceMonitor.enabled },
      },
    });
  }
}
