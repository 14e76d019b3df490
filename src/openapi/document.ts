/**
 * The API description (OpenAPI 3.1), built from the zod schemas the routes validate with and the
 * problem catalogue, so the contract cannot drift from the code. Served at /openapi.json and
 * written to docs/openapi.json by `npm run openapi`; the integration tests check every response
 * they receive against it.
 */
import { z } from 'zod';
import pkg from '../../package.json';
import { HEALTH_PATH, ITEMS_PATH, METRICS_PATH, OPENAPI_PATH, READY_PATH, RUNBOOKS_PATH } from '../contract';
import { FAULT_DELAY_HEADER, FAULT_STATUS_HEADER, MAX_FAULT_DELAY_MS } from '../http/faults';
import { BODY_LIMIT_BYTES } from '../http/validation';
import { item, itemInput, itemPage, itemPatch, listQuery } from '../routes/item-schemas';
import { PROBLEM_STATUS, fieldError, problem } from './problem-schema';

type Json = Record<string, unknown>;

/** A zod schema as a JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) for the request or the response side. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  // `$schema` is left out: OpenAPI 3.1's dialect is draft 2020-12 already.
  const converted: Json = { ...z.toJSONSchema(schema, { target: 'draft-2020-12', io }) };
  delete converted.$schema;
  return converted;
}

const ref = (kind: string, name: string): Json => ({ $ref: `#/components/${kind}/${name}` });
const PROBLEM_TYPE = 'application/problem+json';

/** Headers on every response. */
const ALWAYS = { 'X-Request-Id': ref('headers', 'XRequestId'), 'X-Content-Type-Options': ref('headers', 'XContentTypeOptions') };
/** Headers of the rate limiter, on the items routes' answers. */
const RATE_HEADERS = { RateLimit: ref('headers', 'RateLimit'), 'RateLimit-Policy': ref('headers', 'RateLimitPolicy') };

/** Extra headers by problem status. */
const STATUS_HEADERS: Record<number, Json> = {
  401: { 'WWW-Authenticate': ref('headers', 'WWWAuthenticate') },
  405: { Allow: ref('headers', 'Allow') },
  429: { 'Retry-After': ref('headers', 'RetryAfter') },
  503: { 'Retry-After': ref('headers', 'RetryAfter') },
};

function problemResponse(status: number | string, codes: readonly string[], extraHeaders: Json = {}): Json {
  const numeric = typeof status === 'number';
  const statusSchema = numeric
    ? { const: status }
    : { type: 'integer', minimum: Number(String(status)[0]) * 100, maximum: Number(String(status)[0]) * 100 + 99 };
  return {
    description: codes.map((c) => `\`${c}\``).join(', '),
    headers: { ...ALWAYS, ...(numeric ? STATUS_HEADERS[status] : {}), ...extraHeaders },
    content: {
      [PROBLEM_TYPE]: {
        schema: {
          allOf: [ref('schemas', 'Problem'), { type: 'object', properties: { status: statusSchema, code: { enum: [...codes] } } }],
        },
      },
    },
  };
}

/** Problem responses for `codes`, one per status; `anyStatus` codes join each. */
function problems(codes: readonly string[], extraHeaders: Json = {}, anyStatus: readonly string[] = []): Record<string, Json> {
  const byStatus = new Map<number, string[]>();
  for (const code of codes) {
    const status = PROBLEM_STATUS[code];
    if (status === undefined) throw new Error(`problem code ${code} is not in the catalogue`);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      problemResponse(status, [...list, ...anyStatus.filter((c) => !list.includes(c))], extraHeaders),
    ]),
  );
}

function jsonResponse(description: string, schema: Json, headers: Json = {}, mediaType = 'application/json'): Json {
  return { description, headers: { ...ALWAYS, ...headers }, content: { [mediaType]: { schema } } };
}

const ITEM_ID = '/{id}';
const WRITE_FAILURES = [
  'malformed_json',
  'validation_failed',
  'body_too_deep',
  'bad_request',
  'payload_too_large',
  'unsupported_media_type',
];
/**
 * What any items request can meet: authentication (`unavailable` when a token's key set cannot
 * be fetched), rate limits, overload, the store, a bug.
 */
const API_FAILURES = [
  'unauthenticated',
  'forbidden',
  'rate_limited',
  'internal_error',
  'unavailable',
  'overloaded',
  'store_unavailable',
  'store_busy',
];

/** An items operation: its own answers, then the failures every items request can meet. */
interface ItemsOperation {
  readonly id: string;
  readonly summary: string;
  readonly write: boolean;
  /** The request body's schema name. */
  readonly body?: string;
  readonly query?: readonly Json[];
  readonly ok: Record<string, Json>;
  readonly codes: readonly string[];
}

function itemsOperation(spec: ItemsOperation): Json {
  // With FAULT_INJECTION=true any status may be answered with `injected_fault`.
  const failures = problems([...spec.codes, ...API_FAILURES, 'injected_fault'], RATE_HEADERS, ['injected_fault']);
  return {
    operationId: spec.id,
    summary: spec.summary,
    tags: ['items'],
    security: spec.write ? [{ bearerAuth: [] }] : [{}, { bearerAuth: [] }],
    parameters: [...(spec.query ?? []), ref('parameters', 'FaultStatus'), ref('parameters', 'FaultDelay')],
    ...(spec.body !== undefined && {
      requestBody: {
        required: true,
        content: Object.fromEntries(
          ['application/json', 'application/merge-patch+json'].map((t) => [t, { schema: ref('schemas', spec.body!) }]),
        ),
      },
    }),
    responses: {
      ...Object.fromEntries(Object.entries(spec.ok).map(([s, r]) => [s, { ...r, headers: { ...(r.headers as Json), ...RATE_HEADERS } }])),
      ...failures,
      '4XX': problemResponse('4XX', ['injected_fault']),
      '5XX': problemResponse('5XX', ['injected_fault']),
    },
  };
}

/** OPTIONS on every path: 204 with the methods in `Allow`. */
const options: Json = {
  summary: 'The methods this path supports',
  security: [],
  responses: { '204': { description: 'no content', headers: { ...ALWAYS, Allow: ref('headers', 'Allow') } } },
};

function opsOperation(id: string, summary: string, ok: Json, codes: string[]): Json {
  return { operationId: id, summary, tags: ['operations'], security: [], responses: { '200': ok, ...problems(codes) } };
}

function itemsPaths(): Json {
  const itemOk = jsonResponse('the item', ref('schemas', 'Item'));
  const idParam = { name: 'id', in: 'path', required: true, description: 'the item id (a UUID)', schema: { type: 'string' } };
  const query = jsonSchema(listQuery, 'input') as { properties: Record<string, Json> };
  return {
    [ITEMS_PATH]: {
      get: itemsOperation({
        id: 'listItems',
        summary: 'List items in creation order',
        write: false,
        query: Object.entries(query.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
        ok: { '200': jsonResponse('a page of items', ref('schemas', 'ItemPage')) },
        codes: ['validation_failed'],
      }),
      post: itemsOperation({
        id: 'createItem',
        summary: 'Create an item',
        write: true,
        body: 'ItemInput',
        ok: { '201': jsonResponse('the created item', ref('schemas', 'Item'), { Location: ref('headers', 'Location') }) },
        codes: WRITE_FAILURES,
      }),
      options,
    },
    [`${ITEMS_PATH}${ITEM_ID}`]: {
      parameters: [idParam],
      get: itemsOperation({
        id: 'getItem',
        summary: 'Read an item',
        write: false,
        ok: { '200': itemOk },
        codes: ['validation_failed', 'item_not_found'],
      }),
      put: itemsOperation({
        id: 'replaceItem',
        summary: 'Replace an item (omitted fields reset)',
        write: true,
        body: 'ItemInput',
        ok: { '200': itemOk },
        codes: [...WRITE_FAILURES, 'item_not_found'],
      }),
      patch: itemsOperation({
        id: 'patchItem',
        summary: 'JSON merge patch of an item (`description: null` clears it)',
        write: true,
        body: 'ItemPatch',
        ok: { '200': itemOk },
        codes: [...WRITE_FAILURES, 'item_not_found'],
      }),
      // A path parameter that is not valid percent-encoding answers 400 before OPTIONS is looked at.
      options: { ...options, responses: { ...(options.responses as Json), '400': ref('responses', 'UndecodablePath') } },
      delete: itemsOperation({
        id: 'deleteItem',
        summary: 'Delete an item',
        write: true,
        ok: { '204': { description: 'deleted', headers: ALWAYS } },
        codes: ['validation_failed', 'item_not_found'],
      }),
    },
  };
}

function opsPaths(): Json {
  const status = (value: string): Json => ({
    type: 'object',
    properties: { status: { const: value } },
    required: ['status'],
    additionalProperties: false,
  });
  const text = (mediaTypes: string[], description: string): Json => ({
    description,
    headers: ALWAYS,
    content: Object.fromEntries(mediaTypes.map((t) => [t, { schema: { type: 'string' } }])),
  });
  return {
    [HEALTH_PATH]: {
      get: opsOperation('liveness', 'Liveness: the process serves HTTP', jsonResponse('alive', status('ok')), ['internal_error']),
      options,
    },
    [READY_PATH]: {
      get: opsOperation('readiness', 'Readiness: the store answered its last check', jsonResponse('ready', status('ready')), [
        'internal_error',
        'unavailable',
      ]),
      options,
    },
    [METRICS_PATH]: {
      get: opsOperation(
        'metrics',
        'Prometheus metrics (404 here when METRICS_PORT serves them on their own port)',
        text(['text/plain', 'application/openmetrics-text'], 'text format 0.0.4, or OpenMetrics 1.0.0 when `Accept` asks'),
        ['internal_error', 'route_not_found'],
      ),
      options,
    },
    [RUNBOOKS_PATH]: {
      get: opsOperation('runbooks', 'The alert runbooks', text(['text/markdown'], 'docs/runbooks.md'), [
        'internal_error',
        'route_not_found',
      ]),
      options,
    },
    [OPENAPI_PATH]: {
      get: opsOperation(
        'openapi',
        'This document',
        jsonResponse('OpenAPI 3.1', {
          type: 'object',
          properties: { openapi: { type: 'string', pattern: '^3\\.1\\.' }, paths: { type: 'object' } },
          required: ['openapi', 'paths'],
        }),
        ['internal_error'],
      ),
      options,
    },
  };
}

const header = (description: string, schema: Json, required = true): Json => ({ description, required, schema });

function components(): Json {
  return {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description:
          '`Authorization: Bearer <API key or JWT>`, as AUTH_MODE sets (`api-key` or `jwt`). Writes require it when ' +
          'authentication is on; reads when it is set for reads too. With AUTH_MODE=none (local use) nothing is checked.',
      },
    },
    schemas: {
      ItemInput: jsonSchema(itemInput, 'input'),
      ItemPatch: jsonSchema(itemPatch, 'input'),
      Item: jsonSchema(item, 'output'),
      ItemPage: jsonSchema(itemPage, 'output'),
      Problem: jsonSchema(problem, 'output'),
      FieldError: jsonSchema(fieldError, 'output'),
    },
    parameters: {
      FaultStatus: {
        name: FAULT_STATUS_HEADER,
        in: 'header',
        required: false,
        description:
          'FAULT_INJECTION=true only: answer this status with `injected_fault` (then without the headers the status otherwise carries)',
        schema: { type: 'integer', minimum: 400, maximum: 599 },
      },
      FaultDelay: {
        name: FAULT_DELAY_HEADER,
        in: 'header',
        required: false,
        description: 'FAULT_INJECTION=true only: delay the answer by this many milliseconds',
        schema: { type: 'integer', minimum: 0, maximum: MAX_FAULT_DELAY_MS },
      },
    },
    headers: {
      XRequestId: header('the caller’s x-request-id when it is 1–128 characters of [A-Za-z0-9_.:-], else a new UUID', {
        type: 'string',
        pattern: '^[A-Za-z0-9_.:-]{1,128}$',
      }),
      XContentTypeOptions: header('browsers must not sniff the content type', { const: 'nosniff' }),
      Location: header('the created item', { type: 'string', pattern: `^${ITEMS_PATH}/` }),
      Allow: header('the methods of this path', { type: 'string', pattern: '^[A-Z]+(, [A-Z]+)*$' }),
      RetryAfter: header(
        'seconds to wait; sent with `rate_limited`, `unavailable`, `overloaded`, `store_unavailable` and `store_busy`',
        { type: 'integer', minimum: 0 },
        false,
      ),
      WWWAuthenticate: header('the `Bearer` challenge (RFC 6750), with `error="invalid_token"` when a credential was refused', {
        type: 'string',
        pattern: '^Bearer( |$)',
      }),
      RateLimit: header(
        'remaining quota of this caller (IETF draft RateLimit header fields): `"<policy>";r=<remaining>;t=<seconds>`',
        { type: 'string' },
        false,
      ),
      RateLimitPolicy: header('the quota policy: `"<policy>";q=<requests>;w=<seconds>` (limits are per pod)', { type: 'string' }, false),
    },
    responses: {
      RouteNotFound: problemResponse(404, ['route_not_found']),
      MethodNotAllowed: problemResponse(405, ['method_not_allowed']),
      // Decoding the path comes before routing: any method, listed or not, gets this.
      UndecodablePath: problemResponse(400, ['validation_failed', 'bad_request']),
    },
  };
}

/** The OpenAPI 3.1 document of this service. */
export function openApiDocument(): Json {
  return {
    openapi: '3.1.1',
    info: {
      title: 'rest-api',
      version: pkg.version,
      description:
        'Items REST API. Every error is `application/problem+json` (RFC 9457) with a stable `code`; bad input lists each ' +
        `offending field in \`errors\` (at most 20; \`omittedErrors\` counts the rest). Request bodies: at most ${BODY_LIMIT_BYTES} bytes. ` +
        'A path this document does not list answers `RouteNotFound`, a method a path does not list `MethodNotAllowed`, and ' +
        'a path that is not valid percent-encoding `UndecodablePath`, whatever the method; HEAD is GET without the body.',
      license: { name: pkg.license, identifier: pkg.license },
    },
    tags: [{ name: 'items' }, { name: 'operations', description: 'probes, metrics and documents: not counted in the HTTP metrics' }],
    paths: { ...itemsPaths(), ...opsPaths() },
    components: components(),
  };
}
