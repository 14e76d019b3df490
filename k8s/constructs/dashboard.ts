/**
 * The Grafana dashboard as a ConfigMap labelled `grafana_dashboard: "1"`: kube-prometheus-stack's
 * Grafana sidecar loads such ConfigMaps from every namespace.
 */
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';
import { dashboardFile, dashboardJson } from '../dashboard';
import { commonLabels } from '../labels';

export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: '1' } as const;

export class GrafanaDashboard extends Construct {
  constructor(scope: Construct, id: string, props: { readonly config: DeployConfig }) {
    super(scope, id);
    const c = props.config;
    new kplus.k8s.KubeConfigMap(this, 'configmap', {
      metadata: { name: `${c.name}-dashboard`, labels: { ...commonLabels(c, 'dashboard', c.image.tag), ...GRAFANA_DASHBOARD_LABEL } },
      data: { [dashboardFile(c)]: dashboardJson(c) },
    });
  }
}
