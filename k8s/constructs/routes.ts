/**
 * How clients outside the namespace reach the API: an Ingress and an HTTPRoute (Gateway API),
 * each switched on by its values key and written as `helm create` writes them. Both send to
 * the API Service's API port, by number as helm create does, never to its metrics port.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';
import { commonLabels } from '../labels';
import { ifSet } from './api';

export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

export class Routes extends Construct {
  constructor(scope: Construct, id: string, props: { readonly config: DeployConfig }) {
    super(scope, id);
    const c = props.config;
    const labels = commonLabels(c, 'api', c.image.tag);

    if (c.ingress.enabled) {
      const ing = c.ingress;
      new ApiObject(this, 'ingress', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: c.name, labels, ...ifSet('annotations', ing.annotations) },
        spec: {
          ...ifSet('ingressClassName', ing.className),
          ...ifSet(
            'tls',
            ing.tls.map((t) => ({ hosts: t.hosts, secretName: t.secretName })),
          ),
          rules: ing.hosts.map((h) => ({
            host: h.host,
            http: {
              paths: h.paths.map((p) => ({
                path: p.path,
                pathType: p.pathType,
                backend: { service: { name: c.name, port: { number: c.service.port } } },
              })),
            },
          })),
        },
      });
    }

    if (c.httpRoute.enabled) {
      const route = c.httpRoute;
      new ApiObject(this, 'http-route', {
        apiVersion: GATEWAY_API_VERSION,
        kind: 'HTTPRoute',
        metadata: { name: c.name, labels, ...ifSet('annotations', route.annotations) },
        spec: {
          parentRefs: route.parentRefs,
          ...ifSet('hostnames', route.hostnames),
          rules: route.rules.map((r) => ({
            backendRefs: [{ name: c.name, port: c.service.port, weight: 1 }],
            ...ifSet('matches', r.matches),
            ...ifSet('filters', r.filters),
          })),
        },
      });
    }
  }
}
