/**
 * The API's autoscaler, when autoscaling.enabled: an autoscaling/v2 HorizontalPodAutoscaler on
 * CPU (helm create's hpa.yaml), or with autoscaling.keda.enabled a KEDA ScaledObject on the
 * app's own request rate, read from its recording rule, and on CPU. The Deployment then renders
 * no `replicas`, so an upgrade never resets what the autoscaler chose.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';
import { commonLabels } from '../labels';
import { OPERATOR_PORTS } from '../operator';
import { scalerQuery } from '../recording-rules';
import { appSelector } from '../selectors';
import { num } from '../units';

export const KEDA_API_VERSION = 'keda.sh/v1alpha1';

/** kube-prometheus-stack's Prometheus Service, release kps in monitoring (k8s/values/kube-prometheus-stack.yaml). */
export const KPS_PROMETHEUS_URL = `http://kps-kube-prometheus-stack-prometheus.monitoring.svc:${OPERATOR_PORTS.prometheusWeb}`;

/** The Service in front of the bundled Prometheus's pods (all replicas). */
export const prometheusServiceName = (name: string) => `${name}-prometheus`;

/** The Prometheus KEDA asks: autoscaling.keda.serverAddress, else the bundled one, else kube-prometheus-stack's. */
export function scalerServerAddress(c: DeployConfig): string {
  if (c.autoscaling.keda.serverAddress !== undefined) return c.autoscaling.keda.serverAddress;
  if (!c.prometheus.enabled) return KPS_PROMETHEUS_URL;
  return `http://${prometheusServiceName(c.name)}.${c.namespace}.svc:${OPERATOR_PORTS.prometheusWeb}`;
}

export interface AutoscalingProps {
  readonly config: DeployConfig;
}

export class Autoscaling extends Construct {
  constructor(scope: Construct, id: string, props: AutoscalingProps) {
    super(scope, id);
    const c = props.config;
    const a = c.autoscaling;
    const metadata = { name: c.name, labels: commonLabels(c, 'api', c.image.tag) };
    const scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: c.name };
    if (!a.keda.enabled) {
      new ApiObject(this, 'hpa', {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata,
        spec: {
          scaleTargetRef,
          minReplicas: a.minReplicas,
          maxReplicas: a.maxReplicas,
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage } },
            },
          ],
        },
      });
      return;
    }
    new ApiObject(this, 'scaled-object', {
      apiVersion: KEDA_API_VERSION,
      kind: 'ScaledObject',
      metadata,
      spec: {
        scaleTargetRef,
        minReplicaCount: a.minReplicas,
        maxReplicaCount: a.maxReplicas,
        triggers: [
          {
            type: 'prometheus',
            // The query answers the total rate; KEDA's AverageValue divides it by the replica count.
            metricType: 'AverageValue',
            metadata: {
              serverAddress: scalerServerAddress(c),
              query: scalerQuery(appSelector(c), a.keda.window),
              threshold: num(a.keda.requestsPerSecondPerPod),
              // No answer (Prometheus down, the rule missing) is an error KEDA reports, not a rate of 0.
              ignoreNullValues: 'false',
            },
          },
          { type: 'cpu', metricType: 'Utilization', metadata: { value: String(a.targetCPUUtilizationPercentage) } },
        ],
      },
    });
  }
}
