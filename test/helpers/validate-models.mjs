// Validates Kubernetes objects (a JSON array on stdin) with the ESM-only validators, in plain
// Node (Jest's CommonJS runtime cannot load them): kubernetes-models' schemas, and
// @kubernetes/client-node's typed models, whose round trip drops any field the API does not know.
// Prints a JSON array with, per object, { ref, modelErrors, unknownFields }.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';

const MONITORING = 'monitoring.coreos.com/v1';
/** Custom resources: their model package, by apiVersion. Their unknown fields are the upstream CRD check's (schemas.test.ts). */
const CUSTOM_MODELS = {
  [MONITORING]: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
};

function droppedPaths(original, roundTripped, path = '') {
  if (Array.isArray(original)) return original.flatMap((v, i) => droppedPaths(v, roundTripped?.[i], `${path}[${i}]`));
  if (original !== null && typeof original === 'object') {
    const other = roundTripped ?? {};
    return Object.entries(original).flatMap(([k, v]) => (k in other ? droppedPaths(v, other[k], `${path}.${k}`) : [`${path}.${k}`]));
  }
  return [];
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const object of JSON.parse(input)) {
  const ref = `${object.kind}/${object.metadata?.name}`;
  const custom = CUSTOM_MODELS[object.apiVersion];
  const module = custom ?? `kubernetes-models/${object.apiVersion}`;
  const Model = (await import(module))[object.kind];
  let modelErrors = [];
  if (Model === undefined) modelErrors = [`kubernetes-models has no ${object.kind} in ${module}`];
  else {
    try {
      new Model(object).validate();
    } catch (err) {
      modelErrors = [err.message];
    }
  }
  let unknownFields = [];
  if (custom === undefined) {
    const type = `${/\/(v\d\w*)$/.exec(object.apiVersion)?.[1]?.replace(/^v/, 'V') ?? 'V1'}${object.kind}`;
    unknownFields = droppedPaths(object, ObjectSerializer.serialize(ObjectSerializer.deserialize(object, type, ''), type, ''));
  }
  results.push({ ref, modelErrors, unknownFields });
}
process.stdout.write(JSON.stringify(results));
