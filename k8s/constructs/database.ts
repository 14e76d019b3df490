/**
 * A development PostgreSQL for local clusters: Secret with DATABASE_URL, headless Service and a
 * one-replica StatefulSet with a PVC, PSS restricted. With database.existingSecret none of it is
 * rendered and the API reads that Secret.
 */
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';
import { commonLabels, RESTRICTED_SECCOMP, selectorLabels } from '../labels';

/** UID/GID of `postgres` in the official Debian-based image. */
export const POSTGRES_UID = 999;
export const PGPORT = 5432;
/** Development credentials only: this database exists on local clusters. */
/** The development database's credentials (the chart replaces the password with a generated one). */
export const DEV = { user: 'rest_api', password: 'rest-api-dev', database: 'rest_api' } as const;

export class DevDatabase extends Construct {
  constructor(scope: Construct, id: string, props: { readonly config: DeployConfig }) {
    super(scope, id);
    const c = props.config;
    const name = `${c.name}-postgres`;
    const labels = commonLabels(c, 'postgres', c.database.postgres.image.split(':')[1] ?? 'latest');
    const selector = selectorLabels(c, 'postgres');

    new kplus.k8s.KubeSecret(this, 'secret', {
      metadata: { name: c.database.secretName, labels },
      type: 'Opaque',
      stringData: {
        [c.database.secretKey]: `postgres://${DEV.user}:${DEV.password}@${name}:${PGPORT}/${DEV.database}`,
        POSTGRES_USER: DEV.user,
        POSTGRES_PASSWORD: DEV.password,
        POSTGRES_DB: DEV.database,
      },
    });

    new kplus.k8s.KubeService(this, 'service', {
      metadata: { name, labels },
      spec: {
        clusterIp: 'None',
        selector,
        ports: [{ name: 'postgres', port: PGPORT, targetPort: kplus.k8s.IntOrString.fromString('postgres') }],
      },
    });

    const fromSecret = (key: string) => ({ name: key, valueFrom: { secretKeyRef: { name: c.database.secretName, key } } });
    new kplus.k8s.KubeStatefulSet(this, 'statefulset', {
      metadata: { name, labels },
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: POSTGRES_UID,
              runAsGroup: POSTGRES_UID,
              fsGroup: POSTGRES_UID,
              seccompProfile: RESTRICTED_SECCOMP,
            },
            containers: [
              {
                name: 'postgres',
                image: c.database.postgres.image,
                ports: [{ name: 'postgres', containerPort: PGPORT }],
                env: [
                  fromSecret('POSTGRES_USER'),
                  fromSecret('POSTGRES_PASSWORD'),
                  fromSecret('POSTGRES_DB'),
                  // A subdirectory: the volume's root holds lost+found on some provisioners.
                  { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
                ],
                readinessProbe: { exec: { command: ['pg_isready', '-U', DEV.user, '-d', DEV.database] }, periodSeconds: 5 },
                livenessProbe: { exec: { command: ['pg_isready', '-U', DEV.user] }, periodSeconds: 10, failureThreshold: 6 },
                resources: {
                  requests: { cpu: kplus.k8s.Quantity.fromString('100m'), memory: kplus.k8s.Quantity.fromString('128Mi') },
                  limits: { memory: kplus.k8s.Quantity.fromString('512Mi') },
                },
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: POSTGRES_UID,
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  privileged: false,
                  capabilities: { drop: ['ALL'] },
                  seccompProfile: RESTRICTED_SECCOMP,
                },
                volumeMounts: [
                  { name: 'data', mountPath: '/var/lib/postgresql/data' },
                  { name: 'run', mountPath: '/var/run/postgresql' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'run', emptyDir: { sizeLimit: kplus.k8s.Quantity.fromString('16Mi') } },
              { name: 'tmp', emptyDir: { sizeLimit: kplus.k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: kplus.k8s.Quantity.fromString(c.database.postgres.storage.size) } },
              ...(c.database.postgres.storage.storageClass !== undefined && { storageClassName: c.database.postgres.storage.storageClass }),
            },
          },
        ],
      },
    });
  }
}
