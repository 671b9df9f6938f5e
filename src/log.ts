// The process logger: pino, at LOG_LEVEL (default info), with secrets redacted wherever they appear in fields.
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  '*.token',
  '*.password',
  '*.secret',
  '*.privateKey',
  '*.authorization',
  '*.Authorization',
  'token',
  'password',
  'secret',
  'privateKey',
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
];

export function createLogger(
  options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  return pino(
    { name: options.name ?? 'ost-gate', level, redact: { paths: REDACT, censor: '[redacted]' }, base: undefined },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(1),
  );
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
