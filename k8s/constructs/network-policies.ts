/**
 * Default-deny networking: one NetworkPolicy per kind of pod the app renders, each with ingress
 * and egress, admitting only the paths the app uses. The API takes requests from its clients
 * (networkPolicy.apiFrom) and scrapes from Prometheus, and reaches DNS and its database; the
 * development PostgreSQL takes connections from the API only and opens none but its init
 * container's to the Kubernetes API; the bundled
 * Prometheus scrapes the API, asks the Kubernetes API for its targets and sends to its
 * Alertmanager; the Alertmanager takes alerts from that Prometheus and sends notifications;
 * the API keys Job takes nothing and reaches only the Kubernetes API.
 */
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';
import { PORT_NAME } from '../../src/contract';
import { commonLabels, selectorLabels } from '../labels';
import type { Labels } from '../labels';
import { OPERATOR_PORTS, operatorAlertmanagerPodLabels } from '../operator';
import { PGPORT } from './database';
import { prometheusPodLabels } from './monitoring';

type Peer = kplus.k8s.NetworkPolicyPeer;
type Rule = { to?: readonly unknown[]; ports?: readonly unknown[] };

const tcp = (port: number | string): kplus.k8s.NetworkPolicyPort => ({
  port: typeof port === 'number' ? kplus.k8s.IntOrString.fromNumber(port) : kplus.k8s.IntOrString.fromString(port),
  protocol: 'TCP',
});
const pods = (labels: Labels): Peer => ({ podSelector: { matchLabels: labels } });
const asPeers = (peers: readonly unknown[]) => peers as Peer[];
/** Egress rules from the configuration, in the shape cdk8s expects (ports as IntOrString). */
const egressRules = (rules: readonly Rule[]): kplus.k8s.NetworkPolicyEgressRule[] =>
  rules.map((r) => ({
    ...(r.to !== undefined && { to: asPeers(r.to) }),
    ...(r.ports !== undefined && {
      ports: (r.ports as { port?: number | string; endPort?: number; protocol?: string }[]).map((p) => ({
        ...(p.port !== undefined && {
          port: typeof p.port === 'number' ? kplus.k8s.IntOrString.fromNumber(p.port) : kplus.k8s.IntOrString.fromString(p.port),
        }),
        ...(p.endPort !== undefined && { endPort: p.endPort }),
        ...(p.protocol !== undefined && { protocol: p.protocol }),
      })),
    }),
  }));

/** The TCP port a URL connects to. */
export function urlPort(url: string): number {
  const u = new URL(url);
  return u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
}

/** Alertmanager `name`'s pods, by the labels the operator gives them and no other Alertmanager's. */
export function alertmanagerPodLabels(name: string): Labels {
  const all = operatorAlertmanagerPodLabels(name);
  return { 'app.kubernetes.io/name': all['app.kubernetes.io/name']!, alertmanager: all.alertmanager! };
}

export interface NetworkPoliciesProps {
  readonly config: DeployConfig;
  /** Who may scrape the API's metrics port. */
  readonly metricsFrom: readonly Record<string, unknown>[];
}

export class NetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const c = props.config;
    const np = c.networkPolicy;
    const dns: kplus.k8s.NetworkPolicyEgressRule = {
      to: asPeers(np.dns),
      ports: [
        { port: kplus.k8s.IntOrString.fromNumber(53), protocol: 'UDP' },
        { port: kplus.k8s.IntOrString.fromNumber(53), protocol: 'TCP' },
      ],
    };
    // The database's objects carry its image's version, as the StatefulSet does (database.ts).
    const version = (component: string) => (component === 'postgres' ? (c.database.postgres.image.split(':')[1] ?? 'latest') : c.image.tag);
    const policy = (name: string, component: string, podSelector: Labels, spec: Omit<kplus.k8s.NetworkPolicySpec, 'podSelector'>) =>
      new kplus.k8s.KubeNetworkPolicy(this, component, {
        metadata: { name, labels: commonLabels(c, component, version(component)) },
        spec: { podSelector: { matchLabels: podSelector }, policyTypes: ['Ingress', 'Egress'], ...spec },
      });
    const api = selectorLabels(c, 'api');
    const postgres = selectorLabels(c, 'postgres');
    const prometheus = prometheusPodLabels(c.name);
    const alertmanager = alertmanagerPodLabels(c.name);

    policy(c.name, 'api', api, {
      ingress: [
        { from: asPeers(np.apiFrom), ports: [tcp(PORT_NAME.http)] },
        { from: asPeers(props.metricsFrom), ports: [tcp(PORT_NAME.metrics)] },
        // The chart's `helm test` pod checks the metrics too.
        { from: [pods(selectorLabels(c, 'test'))], ports: [tcp(PORT_NAME.metrics)] },
      ],
      egress: [
        dns,
        c.database.deploy
          ? { to: [pods(postgres)], ports: [tcp(PGPORT)] }
          : { to: asPeers(np.externalDatabase.to), ports: [tcp(np.externalDatabase.port)] },
        ...(c.auth.mode === 'jwt' ? [{ to: asPeers(np.jwksTo), ports: [tcp(urlPort(c.auth.jwt.jwksUrl!))] }] : []),
        ...egressRules(np.extraEgress.api),
      ],
    });

    const kubeApi: kplus.k8s.NetworkPolicyEgressRule = { to: asPeers(np.kubeApiServer), ports: [tcp(443), tcp(6443)] };
    if (c.auth.keys?.ensure === true) {
      // The keys Job: no connection in; out only to the Kubernetes API (by address, no DNS).
      policy(`${c.name}-api-keys`, 'api-keys', selectorLabels(c, 'api-keys'), { ingress: [], egress: [kubeApi] });
    }
    if (c.database.deploy) {
      // Out: only the init container's calls to the Kubernetes API (the Secret it makes), by the
      // service's address from the environment, so without DNS.
      policy(`${c.name}-postgres`, 'postgres', postgres, {
        ingress: [{ from: [pods(api)], ports: [tcp(PGPORT)] }],
        egress: [kubeApi],
      });
    }

    if (c.prometheus.enabled) {
      policy(`${c.name}-prometheus`, 'prometheus', prometheus, {
        ingress: [{ from: asPeers(np.prometheusFrom), ports: [tcp(OPERATOR_PORTS.prometheusWeb)] }],
        egress: [
          dns,
          kubeApi,
          { to: [pods(api)], ports: [tcp(c.metricsPort)] },
          ...(c.alertmanager.enabled ? [{ to: [pods(alertmanager)], ports: [tcp(OPERATOR_PORTS.alertmanagerWeb)] }] : []),
          ...egressRules(np.extraEgress.prometheus),
        ],
      });
    }

    if (c.prometheus.enabled && c.alertmanager.enabled) {
      const mesh = [
        tcp(OPERATOR_PORTS.alertmanagerMesh),
        { port: kplus.k8s.IntOrString.fromNumber(OPERATOR_PORTS.alertmanagerMesh), protocol: 'UDP' },
      ];
      policy(`${c.name}-alertmanager`, 'alertmanager', alertmanager, {
        ingress: [
          { from: [pods(prometheus)], ports: [tcp(OPERATOR_PORTS.alertmanagerWeb)] },
          // Replicas gossip silences and notifications to each other.
          { from: [pods(alertmanager)], ports: mesh },
        ],
        egress: [dns, { to: [pods(alertmanager)], ports: mesh }, ...egressRules(np.extraEgress.alertmanager)],
      });
    }
  }
}
