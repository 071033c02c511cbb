/**
 * pino, JSON by default and pretty on a TTY. Credentials are redacted wherever they appear.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths pino blanks out; `*` matches one level. */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'SENDMUX_API_KEY',
  '*.SENDMUX_API_KEY',
  'secret',
  '*.secret',
  'password',
  '*.password',
];

export interface LoggerSettings {
  level: string;
  /** Pretty-print (pino-pretty) instead of JSON. @defaultValue `process.stdout.isTTY` */
  pretty?: boolean;
  /** Destination; defaults to stdout. */
  destination?: pino.DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'sendmux-deactivator' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.destination) return pino(options, settings.destination);
  const pretty = settings.pretty ?? process.stdout.isTTY;
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  return pino(options);
}
