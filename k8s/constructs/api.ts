/**
 * The API workload: ServiceAccount, Deployment (cdk8s-plus), Service with named ports,
 * PodDisruptionBudget (its NetworkPolicy: network-policies.ts).
 */
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { HEALTH_PATH, PORT_NAME, READY_PATH } from '../../src/contract';
import type { DeployConfig } from '../config';
import { commonLabels, RESTRICTED_SECCOMP, selectorLabels } from '../labels';
import type { Labels } from '../labels';

/** UID/GID the API runs as; the image also runs under any other non-root UID. */
export const API_UID = 10001;
const WRITABLE_PATHS = { tmp: '/tmp', data: '/var/lib/rest-api' } as const;

export interface ApiProps {
  readonly config: DeployConfig;
}

export class Api extends Construct {
  readonly service: kplus.Service;
  readonly deployment: kplus.Deployment;
  readonly podLabels: Labels;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const c = props.config;
    const labels = commonLabels(c, 'api', c.image.tag);
    const selector = selectorLabels(c, 'api');
    this.podLabels = labels;

    const serviceAccount = c.serviceAccount.create
      ? new kplus.ServiceAccount(this, 'service-account', {
          metadata: { name: c.serviceAccount.name ?? c.name, labels },
          automountToken: false,
        })
      : kplus.ServiceAccount.fromServiceAccountName(this, 'service-account', c.serviceAccount.name!);

    this.deployment = new kplus.Deployment(this, 'deployment', {
      metadata: { name: c.name, labels },
      replicas: c.replicas,
      select: false,
      podMetadata: { labels: { ...c.podLabels, ...labels } },
      serviceAccount,
      automountServiceAccountToken: false,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      // SIGTERM arrives after the preStop sleep; the app then has its own timeout to drain.
      terminationGracePeriod: Duration.seconds(c.preStopSeconds + c.shutdownTimeoutSeconds + 5),
      securityContext: { ensureNonRoot: true, user: API_UID, group: API_UID, fsGroup: API_UID },
      volumes: [],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: selector }));

    const container = this.deployment.addContainer({
      name: 'api',
      image: `${c.image.repository}:${c.image.tag}`,
      imagePullPolicy:
        kplus.ImagePullPolicy[
          c.image.pullPolicy === 'IfNotPresent' ? 'IF_NOT_PRESENT' : c.image.pullPolicy === 'Always' ? 'ALWAYS' : 'NEVER'
        ],
      ports: [
        { name: PORT_NAME.http, number: c.port },
        { name: PORT_NAME.metrics, number: c.metricsPort },
      ],
      envVariables: {
        PORT: kplus.EnvValue.fromValue(String(c.port)),
        METRICS_PORT: kplus.EnvValue.fromValue(String(c.metricsPort)),
        LOG_LEVEL: kplus.EnvValue.fromValue(c.logLevel),
        SHUTDOWN_TIMEOUT_MS: kplus.EnvValue.fromValue(String(c.shutdownTimeoutSeconds * 1000)),
        FAULT_INJECTION: kplus.EnvValue.fromValue(String(c.faultInjection)),
        DATA_DIR: kplus.EnvValue.fromValue(WRITABLE_PATHS.data),
        DATABASE_URL: kplus.EnvValue.fromSecretValue({
          secret: kplus.Secret.fromSecretName(this, 'database-secret', c.database.secretName),
          key: c.database.secretKey,
        }),
      },
      readiness: kplus.Probe.fromHttpGet(READY_PATH, {
        port: c.port,
        periodSeconds: Duration.seconds(5),
        failureThreshold: 2,
        timeoutSeconds: Duration.seconds(3),
      }),
      liveness: kplus.Probe.fromHttpGet(HEALTH_PATH, {
        port: c.port,
        periodSeconds: Duration.seconds(10),
        failureThreshold: 3,
        timeoutSeconds: Duration.seconds(3),
      }),
      startup: kplus.Probe.fromHttpGet(HEALTH_PATH, { port: c.port, periodSeconds: Duration.seconds(2), failureThreshold: 30 }),
      securityContext: {
        ensureNonRoot: true,
        user: API_UID,
        group: API_UID,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
      },
      lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(c.preStopSeconds)]) },
    });
    // Scheduling, pull secrets and pod annotations from the config, only when set.
    const podSpec: [string, unknown][] = [
      ['imagePullSecrets', c.image.pullSecrets.map((name) => ({ name }))],
      ['nodeSelector', c.nodeSelector],
      ['tolerations', c.tolerations],
      ['affinity', c.affinity],
    ];
    for (const [key, value] of podSpec) {
      if (Object.keys(value as object).length > 0)
        ApiObject.of(this.deployment).addJsonPatch(JsonPatch.add(`/spec/template/spec/${key}`, value));
    }
    if (Object.keys(c.podAnnotations).length > 0)
      ApiObject.of(this.deployment).addJsonPatch(JsonPatch.add('/spec/template/metadata/annotations', c.podAnnotations));
    for (const [name, path] of Object.entries(WRITABLE_PATHS)) {
      container.mount(path, kplus.Volume.fromEmptyDir(this, `${name}-volume`, name, { sizeLimit: Size.mebibytes(64) }));
    }

    const deployment = ApiObject.of(this.deployment);
    deployment.addJsonPatch(
      JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', RESTRICTED_SECCOMP),
      JsonPatch.add('/spec/template/spec/containers/0/securityContext/seccompProfile', RESTRICTED_SECCOMP),
      JsonPatch.add('/spec/template/spec/containers/0/securityContext/capabilities', { drop: ['ALL'] }),
      // The config's quantities verbatim (cdk8s-plus would otherwise apply its own defaults).
      JsonPatch.replace('/spec/template/spec/containers/0/resources', quantities(c.resources)),
      // cdk8s-plus tags pods with its construct address; the selector labels identify them.
      JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
      // Spread replicas across nodes; a single-node dev cluster still schedules them.
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: selector },
        },
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: selector },
        },
      ]),
    );

    this.service = new kplus.Service(this, 'service', {
      metadata: { name: c.name, labels },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [
        { name: PORT_NAME.http, port: 80, targetPort: c.port, protocol: kplus.Protocol.TCP },
        { name: PORT_NAME.metrics, port: c.metricsPort, targetPort: c.metricsPort, protocol: kplus.Protocol.TCP },
      ],
    });
    for (const [k, v] of Object.entries(selector)) this.service.selectLabel(k, v);

    new kplus.k8s.KubePodDisruptionBudget(this, 'pdb', {
      metadata: { name: c.name, labels },
      spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
    });
  }
}

/** `{requests: {cpu: '100m'}}` with each value a Quantity, as the cdk8s resolver expects. */
function quantities(resources: DeployConfig['resources']): Record<string, Record<string, kplus.k8s.Quantity>> {
  return Object.fromEntries(
    Object.entries(resources).map(([group, values]) => [
      group,
      Object.fromEntries(
        Object.entries(values)
          .filter((entry): entry is [string, string] => entry[1] !== undefined)
          .map(([k, v]) => [k, kplus.k8s.Quantity.fromString(v)]),
      ),
    ]),
  );
}
