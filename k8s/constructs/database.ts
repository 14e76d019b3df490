/**
 * A development PostgreSQL for local clusters: headless Service and a one-replica StatefulSet
 * with a PVC, PSS restricted. Its Secret (DATABASE_URL and the PostgreSQL credentials) is in no
 * manifest: the pod's init container creates it in the cluster with a random password the first
 * time and keeps it afterwards (k8s/ensure-secret.ts). With database.existingSecret none of it is
 * rendered and the API reads that Secret.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';
import type { SecretSpec } from '../ensure-secret';
import { commonLabels, RESTRICTED_SECCOMP, selectorLabels } from '../labels';
import { RESTRICTED_CONTAINER, secretMakerContainer, secretMakerRbac, TOKEN_VOLUME } from './secret-maker';

/** UID/GID of `postgres` in the official Debian-based image. */
export const POSTGRES_UID = 999;
export const PGPORT = 5432;
/** The development database's user and database; the password is made in the cluster. */
export const DEV = { user: 'rest_api', database: 'rest_api' } as const;

/** What the development database's Secret holds: the URL the API reads, and the credentials PostgreSQL starts with. */
export function devDatabaseSecret(secretKey: string, host: string): SecretSpec {
  return {
    POSTGRES_USER: { value: DEV.user },
    POSTGRES_PASSWORD: { random: 32 },
    POSTGRES_DB: { value: DEV.database },
    [secretKey]: { template: `postgres://$(POSTGRES_USER):$(POSTGRES_PASSWORD)@${host}:${PGPORT}/$(POSTGRES_DB)` },
  };
}

export class DevDatabase extends Construct {
  constructor(scope: Construct, id: string, props: { readonly config: DeployConfig }) {
    super(scope, id);
    const c = props.config;
    const name = `${c.name}-postgres`;
    const labels = commonLabels(c, 'postgres', c.database.postgres.image.split(':')[1] ?? 'latest');
    const selector = selectorLabels(c, 'postgres');
    const secret = c.database.secretName;

    secretMakerRbac(this, c, name, secret, labels);

    new ApiObject(this, 'service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels },
      spec: { clusterIP: 'None', selector, ports: [{ name: 'postgres', port: PGPORT, targetPort: 'postgres' }] },
    });

    const fromSecret = (key: string) => ({ name: key, valueFrom: { secretKeyRef: { name: secret, key } } });
    const storage = c.database.postgres.storage;
    new ApiObject(this, 'statefulset', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, labels },
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            // Only the init container gets a token (the projected volume below), not PostgreSQL.
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: POSTGRES_UID,
              runAsGroup: POSTGRES_UID,
              fsGroup: POSTGRES_UID,
              seccompProfile: RESTRICTED_SECCOMP,
            },
            initContainers: [
              secretMakerContainer(c, {
                secret,
                spec: devDatabaseSecret(c.database.secretKey, name),
                labels: selectorLabels(c, 'postgres'),
              }),
            ],
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
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                securityContext: { ...RESTRICTED_CONTAINER, runAsUser: POSTGRES_UID },
                volumeMounts: [
                  { name: 'data', mountPath: '/var/lib/postgresql/data' },
                  { name: 'run', mountPath: '/var/run/postgresql' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [{ name: 'run', emptyDir: { sizeLimit: '16Mi' } }, { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }, TOKEN_VOLUME],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: storage.size } },
              ...(storage.storageClass !== undefined && { storageClassName: storage.storageClass }),
            },
          },
        ],
      },
    });
  }
}
