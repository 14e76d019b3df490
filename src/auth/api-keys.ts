/**
 * API keys from a file (a mounted Secret): one key per line, blank lines and `#` comments
 * ignored. Keys are kept only as SHA-256 digests and compared with timingSafeEqual over the
 * digests, so neither a key's content nor its length shows in the time an answer takes.
 *
 * Rotation without downtime: put the new key in the file next to the old one, move the clients,
 * then remove the old key. The file is re-read at most once per RELOAD_INTERVAL_MS, checked on
 * the request that comes after the interval, so no timer outlives the app. It is read, not
 * watched: Kubernetes updates a mounted Secret by swapping a `..data` symlink, which fs.watch
 * on the file does not reliably report. A file that became unreadable, empty or invalid keeps
 * the last good keys, and says so in the log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConfigError } from '../config';
import type { Verification, Verifier } from './verifier';

export const RELOAD_INTERVAL_MS = 1_000;
/** Shortest key accepted: 16 characters of random text or more (README: `openssl rand -hex 32`). */
export const MIN_KEY_LENGTH = 16;
/** RFC 6750 b64token: what a Bearer credential may contain. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const CONFIG_KEY = 'AUTH_API_KEYS_FILE';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The identity a key is known by in logs and rate limits: never the key itself. */
export function keyId(digest: Buffer): string {
  return digest.toString('hex').slice(0, 8);
}

/** The digests of the keys in `text`, or why the text holds no usable key (line numbers only, never a key). */
export function parseKeys(text: string): Buffer[] | string {
  const digests: Buffer[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.length < MIN_KEY_LENGTH) return `line ${index + 1}: a key must have at least ${MIN_KEY_LENGTH} characters`;
    if (!B64TOKEN.test(line)) return `line ${index + 1}: a key may hold only A-Z a-z 0-9 - . _ ~ + / (and = at the end)`;
    digests.push(sha256(line));
  }
  return digests.length === 0 ? 'holds no key' : digests;
}

export class ApiKeys implements Verifier {
  private digests: readonly Buffer[];
  private text: string;
  /** The last invalid content, reported once rather than every interval. */
  private rejected: string | undefined;
  private checkedAt = performance.now();
  private reloading: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    text: string,
    digests: Buffer[],
    private readonly logger: Logger,
  ) {
    this.text = text;
    this.digests = digests;
  }

  /** Reads the file at boot; a missing, empty or invalid file is a ConfigError naming AUTH_API_KEYS_FILE. */
  static open(file: string, logger: Logger): ApiKeys {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigError([`${CONFIG_KEY}=${JSON.stringify(file)}: cannot be read (${code})`]);
    }
    const parsed = parseKeys(text);
    if (typeof parsed === 'string') throw new ConfigError([`${CONFIG_KEY}=${JSON.stringify(file)}: ${parsed}`]);
    logger.info({ file, keys: parsed.map(keyId) }, 'API keys loaded');
    return new ApiKeys(file, text, parsed, logger);
  }

  /** The id of the key `presented` is, or undefined. Every stored key is compared, whichever matches. */
  async identify(presented: string): Promise<string | undefined> {
    await this.refresh();
    const digest = sha256(presented);
    let found: Buffer | undefined;
    for (const candidate of this.digests) if (timingSafeEqual(candidate, digest)) found = candidate;
    return found === undefined ? undefined : keyId(found);
  }

  async verify(token: string): Promise<Verification> {
    const id = await this.identify(token);
    return id === undefined ? { outcome: 'invalid', reason: 'unknown API key' } : { outcome: 'valid', id: `key:${id}` };
  }

  private async refresh(): Promise<void> {
    if (this.reloading === undefined && performance.now() - this.checkedAt >= RELOAD_INTERVAL_MS) {
      this.reloading = this.reload().finally(() => {
        this.checkedAt = performance.now();
        this.reloading = undefined;
      });
    }
    await this.reloading;
  }

  private async reload(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      this.logger.error(
        { file: this.file, code: (err as NodeJS.ErrnoException).code },
        'API key file unreadable: keeping the last keys read',
      );
      return;
    }
    if (text === this.text || text === this.rejected) return;
    const parsed = parseKeys(text);
    if (typeof parsed === 'string') {
      this.rejected = text;
      this.logger.error({ file: this.file, problem: parsed }, 'API key file invalid: keeping the last keys read');
      return;
    }
    this.text = text;
    this.digests = parsed;
    this.logger.info({ file: this.file, keys: parsed.map(keyId) }, 'API keys reloaded');
  }
}
