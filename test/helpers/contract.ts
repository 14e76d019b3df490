/**
 * Every response the app gives a test is checked against the API description: status, content
 * type, headers and body, with ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect). startApp()
 * observes its server with observeResponses(), so every test that starts the app gets the check
 * for free; test/helpers/contract-setup.ts fails the test during which a response broke it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ajv2020 } from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/openapi/document';

type Json = Record<string, unknown>;

/** What a response was: enough to check it against the document. */
export interface Exchange {
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly url: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number | readonly string[] | undefined>>;
  readonly body: Buffer;
}

const DOC_ID = 'openapi.json';
const doc = openApiDocument();
const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: false });
addFormats(ajv);
// The document's own fields, so ajv (strict) can hold it whole and resolve refs into it.
ajv.addVocabulary(Object.keys(doc));
ajv.addSchema(doc, DOC_ID);
// Headers arrive as strings; `integer` header schemas compare their values as numbers.
const headerAjv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: true });
addFormats(headerAjv);

/** JSON Pointer escaping (RFC 6901). */
const escape = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');

/** The object a `$ref` into this document points to (or the object itself). */
function deref(value: unknown): Json {
  const object = value as Json;
  if (typeof object.$ref !== 'string') return object;
  let target: unknown = doc;
  for (const part of object.$ref.replace(/^#\//, '').split('/')) {
    target = (target as Json)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  if (target === undefined) throw new Error(`the document has no ${object.$ref}`);
  return deref(target);
}

const compiled = new Map<string, ValidateFunction>();
function validatorAt(pointer: string): ValidateFunction {
  let validate = compiled.get(pointer);
  if (validate === undefined) {
    validate = ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
    compiled.set(pointer, validate);
  }
  return validate;
}

/**
 * The path template of the document that `path` matches, if any (Express matches
 * case-insensitively, ignoring one trailing slash; a parameter is never empty).
 */
function matchPath(path: string): string | undefined {
  const parts = path.replace(/(.)\/$/, '$1').split('/');
  return Object.keys(doc.paths as Json).find((template) => {
    const t = template.split('/');
    return (
      t.length === parts.length &&
      t.every((seg, i) => (/^\{.+\}$/.test(seg) ? parts[i] !== '' : seg.toLowerCase() === parts[i]!.toLowerCase()))
    );
  });
}

/** Where the response object for `ex` sits in the document, and what it is. */
function responseFor(ex: Exchange): { pointer: string; response: Json } | string {
  const path = ex.url.split('?')[0]!;
  const template = matchPath(path);
  const component = (name: string) => ({ pointer: `/components/responses/${name}`, response: deref(ref(name)) });
  if (template === undefined) {
    if (ex.status === 404) return component('RouteNotFound');
    if (ex.status === 400) return component('UndecodablePath');
    return `${ex.method} ${path}: ${ex.status} for a path the document does not list`;
  }
  const method = ex.method === 'HEAD' ? 'get' : ex.method.toLowerCase();
  const pathItem = (doc.paths as Record<string, Json>)[template]!;
  if (!(method in pathItem) || method === 'parameters') {
    if (ex.status === 405) return component('MethodNotAllowed');
    if (ex.status === 400) return component('UndecodablePath');
    return `${ex.method} ${template}: ${ex.status} for a method the document does not list`;
  }
  const responses = (pathItem[method] as Json).responses as Json;
  const key = [String(ex.status), `${String(ex.status)[0]}XX`, 'default'].find((k) => k in responses);
  if (key === undefined) return `${ex.method} ${template}: status ${ex.status} is not documented`;
  const target = responses[key] as Json;
  // A shared response ($ref) is compiled where it is defined.
  const pointer = typeof target.$ref === 'string' ? target.$ref.slice(1) : `/paths/${escape(template)}/${method}/responses/${key}`;
  return { pointer, response: deref(target) };
}

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });

const headerChecks = new Map<string, ValidateFunction>();
function headerValidator(schema: Json): ValidateFunction {
  const key = JSON.stringify(schema);
  let check = headerChecks.get(key);
  if (check === undefined) {
    check = headerAjv.compile({ type: 'object', properties: { v: schema } });
    headerChecks.set(key, check);
  }
  return check;
}

function headerValue(value: string | number | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** What is wrong with `ex` according to the document; empty when it conforms. */
export function contractViolations(ex: Exchange): string[] {
  const found = responseFor(ex);
  if (typeof found === 'string') return [found];
  const { pointer, response } = found;
  const where = `${ex.method} ${ex.url} -> ${ex.status}`;
  const problems: string[] = [];
  const headers = Object.fromEntries(Object.entries(ex.headers).map(([k, v]) => [k.toLowerCase(), headerValue(v)]));

  for (const [name, h] of Object.entries((response.headers ?? {}) as Json)) {
    const spec = deref(h);
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (spec.required === true) problems.push(`${where}: header ${name} is missing`);
      continue;
    }
    const check = headerValidator(spec.schema as Json);
    if (!check({ v: value })) problems.push(`${where}: header ${name}: ${JSON.stringify(value)} ${headerAjv.errorsText(check.errors)}`);
  }

  const content = response.content as Json | undefined;
  const hasBody = ex.method !== 'HEAD' && ex.body.length > 0;
  if (content === undefined) {
    if (hasBody) problems.push(`${where}: a body where the document says there is none`);
    return problems;
  }
  const mediaType = headers['content-type']?.split(';')[0]!.trim().toLowerCase();
  if (mediaType === undefined || !(mediaType in content)) {
    problems.push(`${where}: content type ${String(mediaType)} is not one of ${Object.keys(content).join(', ')}`);
    return problems;
  }
  if (ex.method === 'HEAD') return problems;
  const text = ex.body.toString('utf8');
  let body: unknown = text;
  if (/[/+]json$/.test(mediaType)) {
    try {
      body = JSON.parse(text);
    } catch {
      return [...problems, `${where}: the body is not JSON: ${text.slice(0, 200)}`];
    }
  }
  const validate = validatorAt(`${pointer}/content/${escape(mediaType)}/schema`);
  if (!validate(body)) problems.push(`${where}: body ${ajv.errorsText(validate.errors)}: ${text.slice(0, 300)}`);
  return problems;
}

/** Responses checked and violations found in this test file; a global, so the setup file reads it without loading this module. */
export interface ContractLog {
  checked: number;
  violations: string[];
}
const holder = globalThis as { contractLog?: ContractLog };
export const contractLog: ContractLog = (holder.contractLog ??= { checked: 0, violations: [] });

/**
 * Observes every response of `server`'s request handler: collects the body as it is written and
 * checks the exchange when the response finishes.
 */
export function observeResponses(req: IncomingMessage, res: ServerResponse): void {
  const target = req.url ?? '/';
  const chunks: Buffer[] = [];
  const collect = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    chunks.push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
    );
  };
  // Own properties delegate to the prototype's method at call time: Express swaps the response's
  // prototype for its own (whose `end` the HTTP metrics instrument) after this runs.
  const inherited =
    (name: 'write' | 'end' | 'writeHead') =>
    (...args: unknown[]) =>
      (Object.getPrototypeOf(res) as Record<typeof name, (...a: unknown[]) => unknown>)[name].apply(res, args);
  const write = inherited('write');
  const end = inherited('end');
  res.write = ((...args: unknown[]) => {
    collect(args[0], args[1]);
    return write(...args);
  }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => {
    collect(args[0], args[1]);
    return end(...args);
  }) as ServerResponse['end'];
  // Headers given to writeHead() bypass getHeaders(): keep them too.
  const written: Record<string, string | number | readonly string[]> = {};
  const writeHead = inherited('writeHead');
  res.writeHead = ((...args: unknown[]) => {
    const given = args.find((a, i) => i > 0 && typeof a === 'object' && a !== null);
    if (given !== undefined && !Array.isArray(given)) Object.assign(written, given);
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
  res.once('finish', () => {
    contractLog.checked++;
    const exchange = {
      method: req.method ?? 'GET',
      url: target,
      status: res.statusCode,
      headers: { ...res.getHeaders(), ...Object.fromEntries(Object.entries(written).map(([k, v]) => [k.toLowerCase(), v])) },
      body: Buffer.concat(chunks),
    };
    try {
      contractLog.violations.push(...contractViolations(exchange));
    } catch (err) {
      // A document ajv cannot compile is a failure too, reported with the test, not as a crash.
      contractLog.violations.push(`${exchange.method} ${exchange.url}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/** The violations found since the last call, cleared. */
export function takeViolations(): string[] {
  return contractLog.violations.splice(0);
}
