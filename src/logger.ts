/** The service's logger: JSON lines on stdout, with every error and message passed through redact(). */
import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { redact, redactedErr } from './redact';

/** Serializers of every logger: errors are redacted. */
export const logSerializers = { err: redactedErr } as const;

/**
 * @param destination where the JSON lines go @default stdout, written asynchronously: a line
 * costs a copy into a buffer, not a system call on the request's path, and pino flushes what is
 * left synchronously when the process exits (its exit hook), so no line of a shutdown is lost
 */
export function createLogger(options: Pick<LoggerOptions, 'level' | 'base'> = {}, destination?: DestinationStream): Logger {
  const settings: LoggerOptions = {
    ...options,
    serializers: logSerializers,
    hooks: {
      // A message string may embed a URL too (`connect to ${url} failed`).
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = redact(args[i] as string);
        method.apply(this, args);
      },
    },
  };
  return pino(settings, destination ?? pino.destination({ dest: 1, sync: false }));
}
