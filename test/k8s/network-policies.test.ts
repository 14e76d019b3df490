/**
 * Default-deny networking, read as the API server's NetworkPolicy semantics read it: every path
 * the app uses is open, and nothing else is.
 */
import { runningPods } from '../../k8s/checks';
import type { K8sObject } from '../../k8s/checks';
import { connectionAllowed, inCidr } from '../../k8s/network-paths';
import type { Endpoint, Port } from '../../k8s/network-paths';
import { ofKind } from '../../k8s/objects';
import { manifests } from '../helpers/manifests';

const NS = 'rest-api';

/** The pod of `kind`/`name` among the objects, as a NetworkPolicy sees it. */
function podOf(objects: readonly K8sObject[], kind: string, name: string): Endpoint {
  // A Job's name ends in a digest of its pod (k8s/constructs/secret-maker.ts): found by its prefix.
  const pod = runningPods(objects).find(
    (p) => p.owner.kind === kind && (p.owner.metadata?.name === name || (kind === 'Job' && p.owner.metadata?.name?.startsWith(`${name}-`))),
  );
  if (pod === undefined) throw new Error(`no ${kind} ${name}`);
  return { pod: { ns: pod.owner.metadata?.namespace ?? NS, labels: pod.labels, nsLabels: { 'kubernetes.io/metadata.name': NS } } };
}

const other = (ns: string, labels: Record<string, string> = { app: 'other' }): Endpoint => ({
  pod: { ns, labels, nsLabels: { 'kubernetes.io/metadata.name': ns } },
});
const KUBE_DNS = other('kube-system', { 'k8s-app': 'kube-dns' });
const KPS_PROMETHEUS = other('monitoring', { 'app.kubernetes.io/name': 'prometheus', prometheus: 'kps-kube-prometheus-stack-prometheus' });
const INTERNET = { ip: '203.0.113.7' };
const tcp = (number: number, name?: string): Port => ({ number, name, protocol: 'TCP' });
const udp = (number: number): Port => ({ number, protocol: 'UDP' });

function policiesOf(objects: readonly K8sObject[]) {
  return ofKind(objects, 'NetworkPolicy').map((np) => ({ ...np, metadata: { ...np.metadata, namespace: np.metadata?.namespace ?? NS } }));
}

describe('the default NetworkPolicies', () => {
  const objects = manifests();
  const policies = policiesOf(objects);
  const api = podOf(objects, 'Deployment', 'rest-api');
  const postgres = podOf(objects, 'StatefulSet', 'rest-api-postgres');
  const prometheus = podOf(objects, 'Prometheus', 'rest-api');
  const alertmanager = podOf(objects, 'Alertmanager', 'rest-api');
  const keysJob = podOf(objects, 'Job', 'rest-api-api-keys');
  const neighbour = other(NS);
  const stranger = other('elsewhere');
  const HTTP = tcp(8080, 'http');
  const METRICS = tcp(9464, 'metrics');
  const PG = tcp(5432, 'postgres');
  const PROM_WEB = tcp(9090, 'web');
  const AM_WEB = tcp(9093, 'web');

  it('render one policy, with ingress and egress, per kind of pod', () => {
    expect(policies.map((p) => [p.metadata.name, p.spec?.policyTypes])).toEqual([
      ['rest-api', ['Ingress', 'Egress']],
      ['rest-api-api-keys', ['Ingress', 'Egress']],
      ['rest-api-postgres', ['Ingress', 'Egress']],
      ['rest-api-prometheus', ['Ingress', 'Egress']],
      ['rest-api-alertmanager', ['Ingress', 'Egress']],
    ]);
  });

  const allowed: [string, Endpoint, Endpoint, Port][] = [
    ['a pod of the namespace calls the API', neighbour, api, HTTP],
    ['Prometheus scrapes the metrics port', prometheus, api, METRICS],
    ['the API resolves names (UDP)', api, KUBE_DNS, udp(53)],
    ['the API resolves names (TCP)', api, KUBE_DNS, tcp(53)],
    ['the API reaches its database', api, postgres, PG],
    ["the database's init container makes its Secret through the Kubernetes API", postgres, { ip: '10.96.0.1' }, tcp(443)],
    ['the keys Job makes the API keys Secret through the Kubernetes API', keysJob, { ip: '10.96.0.1' }, tcp(6443)],
    ['Prometheus resolves names', prometheus, KUBE_DNS, udp(53)],
    ['Prometheus asks the Kubernetes API for its targets', prometheus, { ip: '10.96.0.1' }, tcp(443)],
    ['Prometheus sends alerts to its Alertmanager', prometheus, alertmanager, AM_WEB],
    ['a pod of the namespace queries Prometheus', neighbour, prometheus, PROM_WEB],
    ['Alertmanager notifies a receiver over HTTPS', alertmanager, INTERNET, tcp(443)],
    ['Alertmanager replicas gossip (UDP)', alertmanager, alertmanager, udp(9094)],
  ];
  it.each(allowed)('admit: %s', (_, from, to, port) => {
    expect(connectionAllowed(policies, from, to, port)).toBe(true);
  });

  const denied: [string, Endpoint, Endpoint, Port][] = [
    ['a pod of another namespace calls the API', stranger, api, HTTP],
    ['a pod of the namespace scrapes the metrics port', neighbour, api, METRICS],
    ["kube-prometheus-stack's Prometheus scrapes it, when the app brings its own", KPS_PROMETHEUS, api, METRICS],
    ['a pod of the namespace connects to the database', neighbour, postgres, PG],
    ['Prometheus connects to the database', prometheus, postgres, PG],
    ['the API reaches the Internet', api, INTERNET, tcp(443)],
    ['the API talks to the Alertmanager (it could silence its own alerts)', api, alertmanager, AM_WEB],
    ['the API reaches the database on another port', api, postgres, tcp(22)],
    ['the database opens any connection but to the Kubernetes API', postgres, INTERNET, tcp(5432)],
    ['the database resolves names', postgres, KUBE_DNS, udp(53)],
    ['a pod of the namespace talks to the Alertmanager', neighbour, alertmanager, AM_WEB],
    ['a pod of another namespace queries Prometheus', stranger, prometheus, PROM_WEB],
    ['Prometheus reaches the Internet on another port', prometheus, INTERNET, tcp(25)],
    ['Alertmanager reaches the API', alertmanager, api, HTTP],
    ['the keys Job reaches the API', keysJob, api, HTTP],
    ['the keys Job reaches the Internet', keysJob, INTERNET, tcp(80)],
    ['a pod of the namespace connects to the keys Job', neighbour, keysJob, tcp(8080)],
  ];
  it.each(denied)('refuse: %s', (_, from, to, port) => {
    expect(connectionAllowed(policies, from, to, port)).toBe(false);
  });
});

describe('NetworkPolicies in other modes', () => {
  it('let an external database be reached on its port only, at the addresses given', () => {
    const objects = manifests({
      database: { existingSecret: 'prod-db' },
      networkPolicy: { externalDatabase: { to: [{ ipBlock: { cidr: '192.0.2.0/24' } }], port: 6432 } },
    });
    const policies = policiesOf(objects);
    const api = podOf(objects, 'Deployment', 'rest-api');
    expect(ofKind(objects, 'NetworkPolicy').map((p) => p.metadata?.name)).not.toContain('rest-api-postgres');
    expect(connectionAllowed(policies, api, { ip: '192.0.2.10' }, tcp(6432))).toBe(true);
    expect(connectionAllowed(policies, api, { ip: '192.0.2.10' }, tcp(5432))).toBe(false);
    expect(connectionAllowed(policies, api, { ip: '198.51.100.1' }, tcp(6432))).toBe(false);
  });

  it("admit kube-prometheus-stack's Prometheus and an ingress controller named in values", () => {
    const objects = manifests({
      prometheus: { enabled: false },
      alertmanager: { enabled: false },
      networkPolicy: { apiFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] },
    });
    const policies = policiesOf(objects);
    const api = podOf(objects, 'Deployment', 'rest-api');
    expect(connectionAllowed(policies, KPS_PROMETHEUS, api, tcp(9464, 'metrics'))).toBe(true);
    expect(connectionAllowed(policies, other('ingress-nginx'), api, tcp(8080, 'http'))).toBe(true);
    expect(connectionAllowed(policies, other(NS), api, tcp(8080, 'http'))).toBe(false);
  });

  it('add the egress rules given for a component (a JWKS host for the API)', () => {
    const objects = manifests({
      networkPolicy: {
        extraEgress: { api: [{ to: [{ ipBlock: { cidr: '198.51.100.0/24' } }], ports: [{ port: 443, protocol: 'TCP' }] }] },
      },
    });
    const api = podOf(objects, 'Deployment', 'rest-api');
    expect(connectionAllowed(policiesOf(objects), api, { ip: '198.51.100.5' }, tcp(443))).toBe(true);
    expect(connectionAllowed(policiesOf(objects), api, INTERNET, tcp(443))).toBe(false);
  });

  it("let the API fetch the JWT key set at its URL's port only, at the addresses given, and render no keys Job", () => {
    const objects = manifests({
      auth: { mode: 'jwt', jwt: { jwksUrl: 'https://idp.example.com:8443/jwks', issuer: 'https://idp.example.com', audience: 'items' } },
      networkPolicy: { jwksTo: [{ ipBlock: { cidr: '198.51.100.0/24' } }] },
    });
    const api = podOf(objects, 'Deployment', 'rest-api');
    expect(connectionAllowed(policiesOf(objects), api, { ip: '198.51.100.5' }, tcp(8443))).toBe(true);
    expect(connectionAllowed(policiesOf(objects), api, { ip: '198.51.100.5' }, tcp(443))).toBe(false);
    expect(connectionAllowed(policiesOf(objects), api, INTERNET, tcp(8443))).toBe(false);
    expect(ofKind(objects, 'Job')).toEqual([]);
  });

  it('render none when switched off', () => {
    expect(ofKind(manifests({ networkPolicy: { enabled: false } }), 'NetworkPolicy')).toEqual([]);
  });
});

describe('CIDR matching', () => {
  it.each([
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.1.2.3', '10.0.0.0/8', false],
    ['192.0.2.255', '192.0.2.0/24', true],
    ['192.0.3.0', '192.0.2.0/24', false],
    ['203.0.113.7', '0.0.0.0/0', true],
    ['203.0.113.7', '203.0.113.7/32', true],
    ['203.0.113.7', '::/0', false],
  ])('%s in %s: %s', (ip, cidr, expected) => {
    expect(inCidr(ip, cidr)).toBe(expected);
  });
});
