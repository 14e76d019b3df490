/**
 * STAND-IN for a Kubernetes API server (none can run on these machines): a small HTTP server
 * answering the read-only paths `verify` calls, with objects of the real shape (lists without
 * per-item kind, 404 Status bodies), bearer-token auth, label selectors, and the service proxy
 * forwarded to a real Prometheus. It checks nothing a real API server would validate.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { K8sObject } from '../../k8s/checks';
import { listenOnEphemeralPort } from './app';

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  Service: 'services',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  Job: 'jobs',
  PodDisruptionBudget: 'poddisruptionbudgets',
  NetworkPolicy: 'networkpolicies',
  ServiceMonitor: 'servicemonitors',
  PrometheusRule: 'prometheusrules',
  Prometheus: 'prometheuses',
  Alertmanager: 'alertmanagers',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  RoleBinding: 'rolebindings',
  Role: 'roles',
  Pod: 'pods',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  EndpointSlice: 'endpointslices',
  Secret: 'secrets',
  ServiceAccount: 'serviceaccounts',
  CustomResourceDefinition: 'customresourcedefinitions',
};

export interface StandIn {
  readonly url: string;
  /** A kubeconfig file pointing at the stand-in, with context `stand-in`. */
  readonly kubeconfig: string;
  readonly requests: string[];
  close(): Promise<void>;
}

export const STAND_IN_TOKEN = 'stand-in-token';

function status(code: number, message: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code };
}

export interface StandInOptions {
  /**
   * RBAC of a namespace-scoped user: every read outside these namespaces (cluster-scoped
   * resources, cluster-wide lists, other namespaces, their service proxies) answers 403.
   * @default every read allowed
   */
  readonly onlyNamespaces?: readonly string[];
}

export async function startKubeStandIn(
  objects: readonly K8sObject[],
  prometheusUrl?: string,
  options: StandInOptions = {},
): Promise<StandIn> {
  const requests: string[] = [];
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${STAND_IN_TOKEN}`) return send(401, status(401, 'Unauthorized'));
    if (url.pathname === '/version') return send(200, { major: '1', minor: '31', gitVersion: 'v1.31.0-stand-in' });
    const allowed = options.onlyNamespaces;
    if (allowed !== undefined && !allowed.some((ns) => url.pathname.includes(`/namespaces/${ns}/`))) {
      return send(403, status(403, `User "stand-in" cannot get path "${url.pathname}"`));
    }

    const proxy = /^\/api\/v1\/namespaces\/[^/]+\/services\/[^/]+\/proxy(\/.*)$/.exec(url.pathname);
    if (proxy !== null) {
      if (prometheusUrl === undefined) return send(503, status(503, 'no endpoints available for service'));
      const upstream = await fetch(`${prometheusUrl}${proxy[1]}${url.search}`, { signal: AbortSignal.timeout(15_000) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(await upstream.text());
      return;
    }

    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.*)$/.exec(url.pathname);
    if (m === null) return send(404, status(404, 'the server could not find the requested resource'));
    const apiVersion = m[1] ?? `${m[2]}/${m[3]}`;
    let rest = m[4]!.split('/');
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name] = rest;
    const selector = (url.searchParams.get('labelSelector') ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('='));
    const matching = objects.filter(
      (o) =>
        o.apiVersion === apiVersion &&
        PLURALS[o.kind ?? ''] === plural &&
        (namespace === undefined || o.metadata?.namespace === namespace) &&
        selector.every(([k, v]) => o.metadata?.labels?.[k!] === v),
    );
    if (name !== undefined) {
      const found = matching.find((o) => o.metadata?.name === name);
      return found === undefined ? send(404, status(404, `${plural} "${name}" not found`)) : send(200, found);
    }
    const kind = Object.entries(PLURALS).find(([, p]) => p === plural)?.[0] ?? 'Unknown';
    // Items of a list carry no kind or apiVersion, as from a real API server.
    return send(200, {
      kind: `${kind}List`,
      apiVersion,
      metadata: {},
      items: matching.map((o) => Object.fromEntries(Object.entries(o).filter(([key]) => key !== 'kind' && key !== 'apiVersion'))),
    });
  };
  const server: Server = createServer((req, res) => {
    // A failure (Prometheus unreachable behind the proxy) answers as an API server would.
    answer(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status(503, `error trying to reach service: ${err instanceof Error ? err.message : String(err)}`)));
    });
  });
  const url = await listenOnEphemeralPort(server);
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // Plain HTTP: client-node then insists on insecure-skip-tls-verify.
      clusters: [{ name: 'stand-in', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'stand-in', user: { token: STAND_IN_TOKEN } }],
      contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'stand-in' } }],
      'current-context': 'stand-in',
    }),
  );
  return {
    url,
    kubeconfig,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
