/**
 * Validation of custom resources against the upstream CRD schemas, strict about unknown fields
 * as the API server's field validation (and `kubectl apply`) is: every object schema without
 * `x-kubernetes-preserve-unknown-fields` gets `additionalProperties: false`; then, as the API
 * server does next, the CEL rules (`x-kubernetes-validations`, test/helpers/crd-cel.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { countCelRules, evaluateCelRules } from './crd-cel';
import type { CelOutcome } from './crd-cel';

type Schema = Record<string, unknown>;

/** The fields of a CustomResourceDefinition (apiextensions.k8s.io/v1) the loader reads. */
interface Crd {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
}

function structural(schema: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' && v !== null && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, s]) => [p, structural(s)]));
    } else if ((k === 'items' || k === 'additionalProperties') && v !== null && typeof v === 'object') {
      out[k] = structural(v as Schema);
    } else if ((k === 'anyOf' || k === 'allOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = v.map((s: Schema) => structural(s));
    } else if (k !== 'x-kubernetes-validations') {
      out[k] = v;
    }
  }
  if (out['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.properties !== undefined && out['x-kubernetes-preserve-unknown-fields'] !== true && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** CRD patterns are Go regular expressions: a `(?i)` group becomes JavaScript's `i` flag. */
function goRegExp(pattern: string, flags: string): RegExp {
  const insensitive = pattern.includes('(?i)');
  return new RegExp(pattern.replaceAll('(?i)', ''), flags + (insensitive ? 'i' : ''));
}
goRegExp.code = 'goRegExp';

/** The CRD in `file`, as the upstream project publishes it. */
function readCrd(file: string): Crd {
  // Cast, not checked: the files are the upstream CRDs; a file of another shape fails below.
  return parse(readFileSync(file, 'utf8')) as Crd;
}

/** A validator per version of the CRD in `file`, keyed `group/version Kind`. */
export function loadCrdValidators(file: string): Map<string, ValidateFunction> {
  const crd = readCrd(file);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } });
  const validators = new Map<string, ValidateFunction>();
  for (const version of crd.spec.versions) {
    const schema = structural(version.schema.openAPIV3Schema);
    // The API server validates metadata itself; the CRD schema says only `type: object`.
    validators.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, ajv.compile(schema));
  }
  return validators;
}

/** What the API server checks of a custom resource: the OpenAPI schema (strict) and the CEL rules (test/helpers/crd-cel.ts). */
export interface CrdValidator {
  /** The OpenAPI errors (none: valid). */
  readonly schemaErrors: (object: unknown) => unknown[];
  readonly cel: (object: unknown) => CelOutcome;
  /** Rules in this version's schema. */
  readonly ruleCount: number;
}

/** OpenAPI and CEL validators of every CRD in the `*.yaml` files of `dir`, keyed `group/version Kind`. */
export function loadCrdDirectory(dir: string): Map<string, CrdValidator> {
  const out = new Map<string, CrdValidator>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const crd = readCrd(join(dir, file));
    const validators = loadCrdValidators(join(dir, file));
    for (const version of crd.spec.versions) {
      const key = `${crd.spec.group}/${version.name} ${crd.spec.names.kind}`;
      const validate = validators.get(key)!;
      const schema = version.schema.openAPIV3Schema;
      out.set(key, {
        schemaErrors: (object) => (validate(object) ? [] : [...(validate.errors ?? [])]),
        cel: (object) => evaluateCelRules(schema, object),
        ruleCount: countCelRules(schema),
      });
    }
  }
  return out;
}

/** Validators of every Prometheus Operator CRD in `schemasDir` (its prometheus-operator-* folder). */
export function loadOperatorCrdValidators(schemasDir: string): Map<string, ValidateFunction> {
  const dir = join(
    schemasDir,
    readdirSync(schemasDir).find((d) => d.startsWith('prometheus-operator-'))!,
  );
  const validators = new Map<string, ValidateFunction>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const [key, validate] of loadCrdValidators(join(dir, file))) validators.set(key, validate);
  }
  return validators;
}
