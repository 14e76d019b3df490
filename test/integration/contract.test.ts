import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import { contractLog, contractViolations, observeResponses, takeViolations } from '../helpers/contract';
import type { Exchange } from '../helpers/contract';
import { listenOnEphemeralPort } from '../helpers/app';

const ITEM = {
  id: '0b6f4bb4-3f0e-4b8f-9a55-0c8d2d1f7a10',
  name: 'Widget',
  description: null,
  tags: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r-1', 'x-content-type-options': 'nosniff' };
const exchange = (overrides: Partial<Exchange>): Exchange => ({
  method: 'GET',
  url: `/api/items/${ITEM.id}`,
  status: 200,
  headers: HEADERS,
  body: Buffer.from(JSON.stringify(ITEM)),
  ...overrides,
});

describe('the response check against the API description', () => {
  it('passes a response that conforms', () => {
    expect(contractViolations(exchange({}))).toEqual([]);
  });

  it.each<[string, Partial<Exchange>, RegExp]>([
    ['a body missing a field', { body: Buffer.from(JSON.stringify({ ...ITEM, name: undefined })) }, /must have required property 'name'/],
    [
      'a body with a field the document does not list',
      { body: Buffer.from(JSON.stringify({ ...ITEM, colour: 'red' })) },
      /additional properties/,
    ],
    ['an undocumented status', { method: 'DELETE', status: 200 }, /status 200 is not documented/],
    ['an undocumented status on an operational path', { url: '/healthz', status: 201 }, /status 201 is not documented/],
    ['a content type the document does not list', { headers: { ...HEADERS, 'content-type': 'text/html' } }, /content type text\/html/],
    ['a missing nosniff', { headers: { ...HEADERS, 'x-content-type-options': undefined } }, /X-Content-Type-Options is missing/],
    [
      'a problem whose code does not go with its status',
      {
        status: 404,
        headers: { ...HEADERS, 'content-type': 'application/problem+json' },
        body: Buffer.from(JSON.stringify({ type: 'urn:problem-type:rest-api:overloaded', title: 't', status: 404, code: 'overloaded' })),
      },
      /must be equal to one of the allowed values/,
    ],
    ['a 201 without Location', { method: 'POST', url: '/api/items', status: 201 }, /Location is missing/],
    ['a body where none is documented', { method: 'DELETE', status: 204 }, /a body where the document says there is none/],
    ['a method the path does not have, answered 200', { method: 'PUT', url: '/healthz' }, /for a method the document does not list/],
  ])('catches %s', (_case, overrides, message) => {
    expect(contractViolations(exchange(overrides)).join('\n')).toMatch(message);
  });

  it('catches a mismatched body sent by an observed server, as startApp observes the app (the setup file then fails the test)', async () => {
    // A stand-in app that breaks the contract, observed exactly as startApp observes the real one.
    const wrong: RequestListener = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r-2', 'x-content-type-options': 'nosniff' });
      res.end(JSON.stringify({ id: 42 }));
    };
    const server = createServer((req, res) => {
      observeResponses(req, res);
      wrong(req, res);
    });
    const url = await listenOnEphemeralPort(server);
    try {
      const before = contractLog.checked;
      const res = await fetch(`${url}/api/items/${ITEM.id}`);
      await res.text();
      // The check runs when the server has finished the response, which may trail the client.
      while (contractLog.checked === before) await new Promise((resolve) => setImmediate(resolve));
      const caught = takeViolations();
      expect(caught).toEqual([expect.stringMatching(/^GET \/api\/items\/\S+ -> 200: body .*must be string/)]);
    } finally {
      server.close();
    }
  });
});
