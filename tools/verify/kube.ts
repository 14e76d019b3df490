/**
 * Reads from the Kubernetes API with the user's kubeconfig, through @kubernetes/client-node's
 * KubeConfig (contexts, TLS and every auth method it supports). Objects come back as the API
 * server's JSON, the shape the shared wiring checks read.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import type * as k8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };

export class KubeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Kube {
  private constructor(
    private readonly config: k8s.KubeConfig,
    readonly server: string,
    readonly context: string,
  ) {}

  static async connect(options: { kubeconfig?: string; context?: string }): Promise<Kube> {
    // An ESM-only package: module node16 keeps this import() as it is in the CommonJS build.
    const { KubeConfig } = await import('@kubernetes/client-node');
    const config = new KubeConfig();
    if (options.kubeconfig !== undefined) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
    if (options.context !== undefined) {
      if (!config.getContexts().some((c) => c.name === options.context)) {
        throw new Error(
          `kubeconfig has no context "${options.context}" (it has: ${
            config
              .getContexts()
              .map((c) => c.name)
              .join(', ') || 'none'
          })`,
        );
      }
      config.setCurrentContext(options.context);
    }
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Error('no current cluster in the kubeconfig (set one with kubectl config use-context)');
    return new Kube(config, cluster.server, config.getCurrentContext());
  }

  /**
   * GETs an API path; undefined when the server answers 404. `T` is the shape the caller expects
   * of the answer (a @kubernetes/client-node model, or K8sObject): it is not checked.
   */
  async get<T = unknown>(path: string, query: Record<string, string> = {}): Promise<T | undefined> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const options: RequestOptions = { method: 'GET', headers: {} };
    await this.config.applyToHTTPSOptions(options);
    options.headers = { ...(options.headers as Record<string, string>), accept: 'application/json' };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = send(url, options, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.setTimeout(15_000, () => req.destroy(new Error(`no answer from ${url.origin} within 15s`)));
      req.on('error', reject);
      req.end();
    });
    if (status === 404) return undefined;
    if (status < 200 || status >= 300) {
      let message = body.slice(0, 300);
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new KubeError(status, `GET ${url.pathname}: ${status} ${message}`);
    }
    // Where the API server's JSON enters: typed as the caller expects it.
    return JSON.parse(body) as T;
  }

  /** The items of a list path (a List's `items`); empty when the server answers 404. */
  async list<T = unknown>(path: string, query: Record<string, string> = {}): Promise<T[]> {
    const list = await this.get<{ items?: T[] }>(path, query);
    return list?.items ?? [];
  }
}
