/** kubernetes-models and @kubernetes/client-node validation of objects (test/helpers/validate-models.mjs). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { K8sObject } from '../../k8s/checks';

/**
 * Errors of @kubernetes-models/prometheus-operator 6.0.0 that are its own bugs: it generates the
 * embedded PVC template as a top-level model and requires `apiVersion: monitoring.coreos.com/v1`
 * and `kind: EmbeddedPersistentVolumeClaim`, which the upstream CRD neither requires nor
 * means. The upstream CRD check below validates that field instead.
 */
export const KNOWN_MODEL_BUGS = [
  /^data\/spec\/storage\/volumeClaimTemplate must have required property apiVersion, data\/spec\/storage\/volumeClaimTemplate must have required property kind$/,
];

/** What validate-models.mjs prints for one object. */
export interface ModelValidation {
  ref: string;
  modelErrors: string[];
  unknownFields: string[];
}

/** Runs test/helpers/validate-models.mjs (plain Node ESM) over `objects`. */
export function validateModels(objects: readonly K8sObject[]): ModelValidation[] {
  const out = execFileSync(process.execPath, [join(__dirname, '..', 'helpers', 'validate-models.mjs')], {
    input: JSON.stringify(objects),
    cwd: join(__dirname, '..', '..'),
    encoding: 'utf8',
  });
  // Cast, not checked: the script is ours and prints exactly this shape.
  return JSON.parse(out) as ModelValidation[];
}
