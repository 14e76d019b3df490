/**
 * One redaction for every message and log line that may carry a connection string: config
 * errors, startup failures and the logger's error serializer all pass text through it, so a
 * DATABASE_URL's password never reaches stderr or the logs, however the URL is mangled.
 */
import { stdSerializers } from 'pino';

export const REDACTED = '***';

/**
 * `scheme://user:password@`: the password runs to the last `@` before a space or quote, so a
 * password with an unescaped `@`, `/` or `#` (which URL parsers then reject, echoing the input)
 * is still covered; at worst a little more than the password is hidden.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>:/?#@]*):[^\s"'<>]*@/gi;
/** `password=…` and `sslpassword=…` in a query string or a libpq key=value string. */
const PASSWORD_PARAM = /\b((?:ssl)?password=)(?:'(?:[^'\\]|\\.)*'|[^\s&'"]*)/gi;

/** `text` with the password of every URL and every `password=` parameter replaced by `***`. */
export function redact(text: string): string {
  return text.replace(USERINFO, `$1$2:${REDACTED}@`).replace(PASSWORD_PARAM, `$1${REDACTED}`);
}

/** Every string in a JSON-like value redacted (a serialized error's message, stack, `input`, cause). */
export function redactDeep(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, seen));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, seen)]));
}

/** pino's error serializer, redacted: pg and URL errors can echo the connection string (`input`). */
export function redactedErr(err: Error): unknown {
  return redactDeep(stdSerializers.err(err));
}
