/** The service's logger: JSON lines on stdout, with every error and message passed through redact(). */
import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { redact, redactedErr } from './redact';

/** Serializers for pino and pino-http (which otherwise installs its own, unredacted, `err`). */
export const logSerializers = { err: redactedErr } as const;

/** @param destination where the JSON lines go @default stdout */
export function createLogger(options: Pick<LoggerOptions, 'level' | 'base'> = {}, destination?: DestinationStream): Logger {
  const settings: LoggerOptions = {
    ...options,
    serializers: logSerializers,
    hooks: {
      // A message string may embed a URL too (`connect to ${url} failed`).
      logMethod(args, method) {
        const redacted = args.map((a: unknown) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>;
        method.apply(this, redacted);
      },
    },
  };
  return destination === undefined ? pino(settings) : pino(settings, destination);
}
