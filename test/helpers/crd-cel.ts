/**
 * The CEL half of a CRD's validation (`x-kubernetes-validations`), evaluated with @bufbuild/cel
 * as the API server evaluates it after the OpenAPI schema: on the object with the schema's
 * defaults applied, each rule with `self` bound to the value at the rule's level, property
 * names escaped as Kubernetes escapes them (`namespace` is `__namespace__`), integers as CEL
 * ints. Rules that read `oldSelf` judge updates only and are skipped; a rule the evaluator
 * cannot run (a Kubernetes library function it lacks, a syntax it does not parse) is reported
 * as not evaluated, never as passed.
 */
import { isCelError, run } from '@bufbuild/cel';
import type { CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

type Schema = Record<string, unknown>;
interface Rule {
  rule: string;
  message?: string;
}

export interface CelFinding {
  /** Where the rule sits in the object, e.g. `.spec.rules[0].matches[0].path`. */
  readonly path: string;
  readonly rule: string;
  readonly detail: string;
}

export interface CelOutcome {
  /** Rule evaluations that ran (a rule under a list counts once per element). */
  evaluated: number;
  /** Transition rules (oldSelf): they apply to updates. */
  skipped: CelFinding[];
  /** Rules the evaluator could not run: neither passed nor failed. */
  unevaluated: CelFinding[];
  /** Rules that answered false, or failed on the object (the API server refuses both). */
  violations: CelFinding[];
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The object as the API server defaults it before validation: every absent property with a `default` gets it, recursively. */
export function withDefaults(schema: Schema | undefined, value: unknown): unknown {
  if (schema === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => withDefaults(schema.items as Schema | undefined, v));
  if (!isMap(value)) return value;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const out: Record<string, unknown> = { ...value };
  for (const [k, s] of Object.entries(props)) {
    if (out[k] === undefined && s.default !== undefined) out[k] = structuredClone(s.default);
    if (out[k] !== undefined) out[k] = withDefaults(s, out[k]);
  }
  const extra = schema.additionalProperties;
  if (isMap(extra)) for (const k of Object.keys(out).filter((k) => !(k in props))) out[k] = withDefaults(extra, out[k]);
  return out;
}

const CEL_RESERVED = new Set(
  'true false null in as break const continue else for function if import let loop package namespace return var void while'.split(' '),
);

/** A property name as CEL expressions in CRDs spell it (apiextensions-apiserver's escaping). */
export function celPropertyName(name: string): string {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  return name.replaceAll('__', '__underscores__').replaceAll('.', '__dot__').replaceAll('-', '__dash__').replaceAll('/', '__slash__');
}

/** A JSON value as a CEL value: maps for objects, ints (bigint) where the schema says integer. */
function toCel(value: unknown, schema: Schema | undefined): CelInput {
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema?.items as Schema | undefined));
  if (isMap(value)) {
    const props = (schema?.properties ?? {}) as Record<string, Schema>;
    const extra = isMap(schema?.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
    return new Map(Object.entries(value).map(([k, v]) => [celPropertyName(k), toCel(v, props[k] ?? extra)]));
  }
  if (typeof value === 'number' && (schema?.type === 'integer' || (schema?.type === undefined && Number.isInteger(value)))) {
    return BigInt(value);
  }
  return value as CelInput;
}

/** Messages of @bufbuild/cel that mean it could not run the rule, not that the object broke it. */
const CANNOT_RUN = /unbound function|no matching overload|found .* but expecting|unsupported/i;

function evaluate(rules: readonly Rule[], schema: Schema, value: unknown, path: string, out: CelOutcome): void {
  for (const r of rules) {
    const finding = (detail: string): CelFinding => ({ path: path || '.', rule: r.rule, detail });
    if (/\boldSelf\b/.test(r.rule)) {
      out.skipped.push(finding('a transition rule (oldSelf): applies to updates'));
      continue;
    }
    const result = run(r.rule, { self: toCel(value, schema) }, { funcs: strings });
    if (isCelError(result)) {
      if (CANNOT_RUN.test(result.message)) out.unevaluated.push(finding(result.message));
      else {
        out.evaluated++;
        out.violations.push(finding(`evaluation error: ${result.message}`));
      }
    } else {
      out.evaluated++;
      if (result !== true)
        out.violations.push(finding(r.message ?? `rule answered ${result === false ? 'false' : `a ${typeof result}, not true`}`));
    }
  }
}

function walk(schema: Schema | undefined, value: unknown, path: string, out: CelOutcome): void {
  if (schema === undefined || value === undefined || value === null) return;
  evaluate((schema['x-kubernetes-validations'] ?? []) as Rule[], schema, value, path, out);
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(schema.items as Schema | undefined, v, `${path}[${i}]`, out));
  } else if (isMap(value)) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const extra = isMap(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
    for (const [k, v] of Object.entries(value)) walk(props[k] ?? extra, v, `${path}.${k}`, out);
  }
}

/** Evaluates every CEL rule of `schema` (a CRD version's openAPIV3Schema) over `object`, defaults applied first. */
export function evaluateCelRules(schema: Schema, object: unknown): CelOutcome {
  const out: CelOutcome = { evaluated: 0, skipped: [], unevaluated: [], violations: [] };
  walk(schema, withDefaults(schema, object), '', out);
  return out;
}

/** How many rules a schema carries, wherever they sit. */
export function countCelRules(schema: unknown): number {
  if (Array.isArray(schema)) return schema.reduce((n: number, s) => n + countCelRules(s), 0);
  if (!isMap(schema)) return 0;
  const own = Array.isArray(schema['x-kubernetes-validations']) ? schema['x-kubernetes-validations'].length : 0;
  return own + Object.values(schema).reduce((n: number, s) => n + countCelRules(s), 0);
}
