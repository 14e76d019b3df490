/**
 * The API keys Secret of api-key mode, when auth.existingSecret names none: a Job creates
 * <name>-api-keys in the cluster with one random key the first time and keeps it afterwards, as
 * the development database's password is made (k8s/ensure-secret.ts). The key is in no manifest;
 * the API pods wait for the Secret to mount. Its NetworkPolicy is in network-policies.ts.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';
import type { SecretSpec } from '../ensure-secret';
import { commonLabels, selectorLabels } from '../labels';
import { API_UID } from './api';
import { makerDigest, secretMakerContainer, secretMakerRbac, TOKEN_VOLUME } from './secret-maker';

/** Length of the key the cluster makes: 40 of [A-Za-z0-9], about 238 bits. */
export const API_KEY_LENGTH = 40;

export const apiKeysSecret = (secretKey: string): SecretSpec => ({ [secretKey]: { random: API_KEY_LENGTH } });

export class ApiKeys extends Construct {
  constructor(scope: Construct, id: string, props: { readonly config: DeployConfig }) {
    super(scope, id);
    const c = props.config;
    const keys = c.auth.keys;
    if (keys === undefined || !keys.ensure) return;
    const name = `${c.name}-api-keys`;
    const labels = commonLabels(c, 'api-keys', c.image.tag);
    const maker = { secret: keys.secretName, spec: apiKeysSecret(keys.secretKey), labels: selectorLabels(c, 'api-keys') };
    secretMakerRbac(this, c, name, keys.secretName, labels);
    new ApiObject(this, 'job', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `${name}-${makerDigest(c, maker)}`, labels },
      spec: {
        backoffLimit: 6,
        template: {
          // Selector labels only: the pod template of a Job cannot change after it is created.
          metadata: { labels: selectorLabels(c, 'api-keys') },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            restartPolicy: 'OnFailure',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: API_UID,
              runAsGroup: API_UID,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            ...(c.image.pullSecrets.length > 0 && { imagePullSecrets: c.image.pullSecrets.map((n) => ({ name: n })) }),
            containers: [secretMakerContainer(c, maker)],
            volumes: [TOKEN_VOLUME],
          },
        },
      },
    });
  }
}
