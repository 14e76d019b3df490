/**
 * The API workload: ServiceAccount, Deployment, Service with named ports and PodDisruptionBudget,
 * written as plain objects field for field as the chart's templates write them
 * (charts/rest-api/templates/), so the parity tests can compare both. Its NetworkPolicy is in
 * network-policies.ts, with the other components'.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { PORT_NAME } from '../../src/contract';
import type { DeployConfig } from '../config';
import { commonLabels, imageRef, selectorLabels } from '../labels';
import type { Labels } from '../labels';

/** UID/GID the API image runs as; it also runs under any other non-root UID. */
export const API_UID = 10001;
const WRITABLE_PATHS = { tmp: '/tmp', data: '/var/lib/rest-api' } as const;
/** Where the API keys Secret and the database CA are mounted (whole volumes: a subPath mount never sees a rotation). */
export const MOUNTS = { apiKeys: '/etc/rest-api/api-keys', databaseCa: '/etc/rest-api/database-ca' } as const;

export interface ApiProps {
  readonly config: DeployConfig;
}

/** `{key: value}` when value is a non-empty list or map (or a non-empty string), else nothing. */
export function ifSet(key: string, value: unknown): Record<string, unknown> {
  const empty = value === undefined || value === '' || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
  return empty ? {} : { [key]: value };
}

/** The API's environment: its settings from the config (README, Configuration), then `env`. */
export function apiEnv(c: DeployConfig): Record<string, unknown>[] {
  const settings: Record<string, string | number | boolean> = {
    PORT: c.port,
    METRICS_PORT: c.metricsPort,
    LOG_LEVEL: c.logLevel,
    SHUTDOWN_TIMEOUT_MS: c.shutdownTimeoutSeconds * 1000,
    FAULT_INJECTION: c.faultInjection,
    DATA_DIR: WRITABLE_PATHS.data,
    DB_POOL_MAX: c.database.poolMax,
    DB_POOL_WAIT_MS: c.database.poolWaitMs,
    DB_STATEMENT_TIMEOUT_MS: c.database.statementTimeoutMs,
    HEADERS_TIMEOUT_MS: c.server.headersTimeoutMs,
    REQUEST_TIMEOUT_MS: c.server.requestTimeoutMs,
    KEEP_ALIVE_TIMEOUT_MS: c.server.keepAliveTimeoutMs,
    MAX_REQUESTS_PER_SOCKET: c.server.maxRequestsPerSocket,
    MAX_IN_FLIGHT: c.server.maxInFlight,
    AUTH_MODE: c.auth.mode,
    AUTH_READS: c.auth.reads,
    ...(c.auth.keys && { AUTH_API_KEYS_FILE: `${MOUNTS.apiKeys}/${c.auth.keys.secretKey}` }),
    ...(c.auth.mode === 'jwt' && {
      AUTH_JWKS_URL: c.auth.jwt.jwksUrl!,
      AUTH_ISSUER: c.auth.jwt.issuer!,
      AUTH_AUDIENCE: c.auth.jwt.audience!,
      AUTH_JWT_ALGORITHMS: c.auth.jwt.algorithms.join(','),
      AUTH_WRITE_SCOPE: c.auth.jwt.writeScope,
    }),
    RATE_LIMIT_RPS: c.rateLimit.requestsPerSecond,
    RATE_LIMIT_BURST: c.rateLimit.burst,
    RATE_LIMIT_AUTH_FAILURES: c.rateLimit.authFailuresPerMinute,
    TRUST_PROXY_HOPS: c.rateLimit.trustedProxyHops,
  };
  const ca = databaseCa(c);
  return [
    ...Object.entries(settings).map(([name, value]) => ({ name, value: String(value) })),
    { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: c.database.secretName, key: c.database.secretKey } } },
    ...(ca ? [{ name: 'DATABASE_CA_FILE', value: `${MOUNTS.databaseCa}/${c.database.ca.key}` }] : []),
    ...c.env,
  ];
}

/** The volume holding the database's CA, when one is set. */
function databaseCa(c: DeployConfig): Record<string, unknown> | undefined {
  const { secret, configMap } = c.database.ca;
  if (secret !== undefined) return { name: 'database-ca', secret: { secretName: secret } };
  if (configMap !== undefined) return { name: 'database-ca', configMap: { name: configMap } };
  return undefined;
}

/** The API's read-only mounts beyond its writable paths: the keys file and the database CA. */
function configVolumes(c: DeployConfig): { volumes: Record<string, unknown>[]; mounts: Record<string, unknown>[] } {
  const ca = databaseCa(c);
  const keys = c.auth.keys;
  return {
    volumes: [...(keys ? [{ name: 'api-keys', secret: { secretName: keys.secretName } }] : []), ...(ca ? [ca] : [])],
    mounts: [
      ...(keys ? [{ name: 'api-keys', mountPath: MOUNTS.apiKeys, readOnly: true }] : []),
      ...(ca ? [{ name: 'database-ca', mountPath: MOUNTS.databaseCa, readOnly: true }] : []),
    ],
  };
}

export class Api extends Construct {
  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const c = props.config;
    const labels = commonLabels(c, 'api', c.image.tag);
    const selector = selectorLabels(c, 'api');
    // Selector labels last: extra pod labels never change what the selectors select.
    const podLabels: Labels = { ...c.podLabels, ...labels };
    const serviceAccountName = c.serviceAccount.name ?? c.name;
    const mounted = configVolumes(c);

    if (c.serviceAccount.create) {
      new ApiObject(this, 'service-account', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: serviceAccountName, labels, ...ifSet('annotations', c.serviceAccount.annotations) },
        automountServiceAccountToken: false,
      });
    }

    const container = {
      name: 'api',
      image: imageRef(c.image),
      imagePullPolicy: c.image.pullPolicy,
      ports: [
        { name: PORT_NAME.http, containerPort: c.port },
        { name: PORT_NAME.metrics, containerPort: c.metricsPort },
      ],
      env: apiEnv(c),
      ...ifSet('envFrom', c.envFrom),
      livenessProbe: c.livenessProbe,
      readinessProbe: c.readinessProbe,
      startupProbe: c.startupProbe,
      resources: c.resources,
      securityContext: c.securityContext,
      lifecycle: { preStop: { exec: { command: ['sleep', String(c.preStopSeconds)] } } },
      volumeMounts: [
        ...Object.entries(WRITABLE_PATHS).map(([name, mountPath]) => ({ name, mountPath })),
        ...mounted.mounts,
        ...c.volumeMounts,
      ],
    };
    new ApiObject(this, 'deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: c.name, labels },
      spec: {
        replicas: c.replicas,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels: podLabels, ...ifSet('annotations', c.podAnnotations) },
          spec: {
            serviceAccountName,
            automountServiceAccountToken: false,
            securityContext: c.podSecurityContext,
            // SIGTERM arrives after the preStop sleep; the app then has its own timeout to drain.
            terminationGracePeriodSeconds: c.preStopSeconds + c.shutdownTimeoutSeconds + 5,
            ...ifSet('priorityClassName', c.priorityClassName),
            ...ifSet(
              'imagePullSecrets',
              c.image.pullSecrets.map((name) => ({ name })),
            ),
            containers: [container],
            volumes: [
              ...Object.keys(WRITABLE_PATHS).map((name) => ({ name, emptyDir: { sizeLimit: '64Mi' } })),
              ...mounted.volumes,
              ...c.volumes,
            ],
            // Spread replicas (by default across nodes and zones; a single-node dev cluster still schedules them).
            ...ifSet(
              'topologySpreadConstraints',
              c.topologySpreadConstraints.map((t) => ({ labelSelector: { matchLabels: selector }, ...t })),
            ),
            ...ifSet('nodeSelector', c.nodeSelector),
            ...ifSet('tolerations', c.tolerations),
            ...ifSet('affinity', c.affinity),
          },
        },
      },
    });

    new ApiObject(this, 'service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: c.name, labels, ...ifSet('annotations', c.service.annotations) },
      spec: {
        type: c.service.type,
        selector,
        ports: [
          { name: PORT_NAME.http, port: c.service.port, targetPort: PORT_NAME.http, protocol: 'TCP' },
          { name: PORT_NAME.metrics, port: c.metricsPort, targetPort: PORT_NAME.metrics, protocol: 'TCP' },
        ],
      },
    });

    new ApiObject(this, 'pdb', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: c.name, labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    });
  }
}
