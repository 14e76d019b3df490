/**
 * What makes Prometheus scrape the API and load its alerts: ServiceMonitor, PrometheusRule, and
 * a Prometheus (Prometheus Operator CRD) with persistent storage, explicit selectors for both,
 * its own ServiceAccount and least-privilege RBAC.
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { METRICS_PATH } from '../../src/routes/ops';
import type { DeployConfig } from '../config';
import { commonLabels, RESTRICTED_SECCOMP } from '../labels';
import { allRuleGroups } from '../rule-files';
import type { Labels } from '../labels';
import { PORT_NAME } from './api';

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';
/** UID/GID of the Prometheus pods (the upstream image's `nobody` works with any non-root UID). */
export const PROMETHEUS_UID = 1000;
export const PROMETHEUS_GID = 2000;

/** Pod security of the Prometheus and Alertmanager pods: non-root, with an fsGroup so their volume is writable. */
const OPERATOR_POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: PROMETHEUS_UID,
  runAsGroup: PROMETHEUS_GID,
  fsGroup: PROMETHEUS_GID,
  seccompProfile: RESTRICTED_SECCOMP,
};

/** Labels the operator puts on the pods of Prometheus `name`. */
export function prometheusPodLabels(name: string): Labels {
  return { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': name };
}

export interface MonitoringProps {
  readonly config: DeployConfig;
  /** Labels of the Service to scrape. */
  readonly serviceLabels: Labels;
}

export class Monitoring extends Construct {
  readonly serviceMonitor: ApiObject;
  readonly rule: ApiObject;
  readonly prometheus: ApiObject;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const c = props.config;
    const m = c.monitoring;
    const selectedBy = m.selectorLabels;
    const namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': c.namespace } };

    this.serviceMonitor = new ApiObject(this, 'service-monitor', {
      apiVersion: MONITORING_API_VERSION,
      kind: 'ServiceMonitor',
      metadata: { name: c.name, labels: { ...commonLabels(c, 'api', c.image.tag), ...selectedBy } },
      spec: {
        selector: { matchLabels: props.serviceLabels },
        namespaceSelector: { matchNames: [c.namespace] },
        endpoints: [
          {
            port: PORT_NAME.metrics,
            path: METRICS_PATH,
            scheme: 'http',
            interval: m.scrapeInterval,
            scrapeTimeout: m.scrapeTimeout,
          },
        ],
        sampleLimit: m.sampleLimit,
      },
    });

    this.rule = new ApiObject(this, 'prometheus-rule', {
      apiVersion: MONITORING_API_VERSION,
      kind: 'PrometheusRule',
      metadata: { name: c.name, labels: { ...commonLabels(c, 'api', c.image.tag), ...selectedBy } },
      spec: { groups: allRuleGroups(c) },
    });

    const name = c.name;
    const labels = commonLabels(c, 'prometheus', c.image.tag);
    const serviceAccount = new kplus.ServiceAccount(this, 'prometheus-sa', {
      metadata: { name: `${name}-prometheus`, labels },
      automountToken: true,
    });
    // Service discovery in the app's namespace only: a ClusterRole granted through a RoleBinding.
    const discovery = new kplus.k8s.KubeClusterRole(this, 'prometheus-discovery', {
      metadata: { name: `${c.namespace}-${name}-prometheus-discovery`, labels },
      rules: [
        { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      ],
    });
    new kplus.k8s.KubeRoleBinding(this, 'prometheus-discovery-binding', {
      metadata: { name: `${name}-prometheus-discovery`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: discovery.name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace: c.namespace }],
    });
    // Non-resource URLs can only be granted cluster-wide.
    const metricsUrl = new kplus.k8s.KubeClusterRole(this, 'prometheus-metrics-url', {
      metadata: { name: `${c.namespace}-${name}-prometheus-metrics`, labels },
      rules: [{ nonResourceUrLs: ['/metrics'], verbs: ['get'] }],
    });
    new kplus.k8s.KubeClusterRoleBinding(this, 'prometheus-metrics-url-binding', {
      metadata: { name: `${c.namespace}-${name}-prometheus-metrics`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: metricsUrl.name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace: c.namespace }],
    });

    if (m.alertmanager) {
      // The operator writes a default configuration (a receiver that notifies no one) until the
      // Secret alertmanager-<name> holds one: add receivers there, or with AlertmanagerConfigs.
      new ApiObject(this, 'alertmanager', {
        apiVersion: MONITORING_API_VERSION,
        kind: 'Alertmanager',
        metadata: { name, labels: commonLabels(c, 'alertmanager', c.image.tag) },
        spec: {
          replicas: 1,
          securityContext: OPERATOR_POD_SECURITY,
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
        },
      });
    }

    this.prometheus = new ApiObject(this, 'prometheus', {
      apiVersion: MONITORING_API_VERSION,
      kind: 'Prometheus',
      metadata: { name, labels },
      spec: {
        replicas: m.prometheusReplicas,
        serviceAccountName: serviceAccount.name,
        // The operator sets the name/instance labels of its pods itself (see prometheusPodLabels).
        podMetadata: { labels: { 'app.kubernetes.io/part-of': c.name } },
        serviceMonitorSelector: { matchLabels: selectedBy },
        serviceMonitorNamespaceSelector: namespaceSelector,
        ruleSelector: { matchLabels: selectedBy },
        ruleNamespaceSelector: namespaceSelector,
        // Only what this app declares: no PodMonitors, Probes or ScrapeConfigs.
        podMonitorSelector: { matchLabels: selectedBy },
        podMonitorNamespaceSelector: namespaceSelector,
        probeSelector: { matchLabels: selectedBy },
        probeNamespaceSelector: namespaceSelector,
        scrapeInterval: m.scrapeInterval,
        scrapeTimeout: m.scrapeTimeout,
        evaluationInterval: m.evaluationInterval,
        retention: m.retention,
        retentionSize: m.retentionSize,
        storage: {
          volumeClaimTemplate: {
            metadata: { name: 'data' },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: m.volumeSize } },
              ...(m.storageClass !== undefined && { storageClassName: m.storageClass }),
            },
          },
        },
        securityContext: OPERATOR_POD_SECURITY,
        resources: m.prometheusResources,
        walCompression: true,
        ...(m.alertmanager && {
          alerting: { alertmanagers: [{ namespace: c.namespace, name: 'alertmanager-operated', port: 'web', apiVersion: 'v2' }] },
        }),
      },
    });
  }
}
