/**
 * A stand-in for the API server's Secret endpoints in one namespace (no API server runs here),
 * named as such: what the Secret makers (k8s/ensure-secret.ts) speak to. And a run of the script
 * as a pod runs it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ENSURE_SECRET_SCRIPT } from '../../k8s/ensure-secret';

export interface StoredSecret {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  data: Record<string, string>;
}

/** Stand-in for the API server's Secret endpoints in one namespace, with the requests it saw. */
export class SecretApiStandIn {
  readonly secrets = new Map<string, StoredSecret>();
  readonly requests: string[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.close();
    if (this.server) await once(this.server, 'close');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    this.requests.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    const send = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(req.url ?? '');
    if (m === null) return void send(404, { kind: 'Status', code: 404 });
    const [, , name] = m;
    if (req.method === 'GET') return void (this.secrets.has(name!) ? send(200, this.secrets.get(name!)) : send(404, { code: 404 }));
    if (req.method === 'POST') {
      const secret = JSON.parse(body) as StoredSecret;
      if (this.secrets.has(secret.metadata.name)) return void send(409, { code: 409 });
      this.secrets.set(secret.metadata.name, secret);
      return void send(201, secret);
    }
    if (req.method === 'PATCH' && req.headers['content-type'] === 'application/merge-patch+json') {
      const secret = this.secrets.get(name!)!;
      Object.assign(secret.data, (JSON.parse(body) as StoredSecret).data);
      return void send(200, secret);
    }
    send(405, { code: 405 });
  }
}

export const decode = (s: StoredSecret) =>
  Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

/** Runs the script with node, as the container's command does, against `apiUrl`. */
export async function runSecretMaker(
  apiUrl: string,
  tokenFile: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['-e', ENSURE_SECRET_SCRIPT], {
    env: { KUBERNETES_API_URL: apiUrl, KUBERNETES_TOKEN_FILE: tokenFile, ...env },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}
