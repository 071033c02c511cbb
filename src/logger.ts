/**
 * pino: JSON by default, pretty (pino-pretty) on a TTY when pino-pretty is installed. pino-pretty
 * is a devDependency, so a production install (`npm ci --omit=dev`, the Docker image) logs JSON
 * even on a terminal. Credentials are redacted wherever they appear.
 */
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
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
  // The HTTP server's secrets (config fields, variables, the webhook signature header).
  'adminToken',
  '*.adminToken',
  'ADMIN_TOKEN',
  '*.ADMIN_TOKEN',
  'adminTokens',
  '*.adminTokens',
  'ADMIN_TOKENS',
  '*.ADMIN_TOKENS',
  'webhookSecret',
  '*.webhookSecret',
  'SENDMUX_WEBHOOK_SECRET',
  '*.SENDMUX_WEBHOOK_SECRET',
  'notifySecret',
  '*.notifySecret',
  'NOTIFY_SECRET',
  '*.NOTIFY_SECRET',
  'headers["x-sendmux-signature"]',
  '*.headers["x-sendmux-signature"]',
  'secret',
  '*.secret',
  'password',
  '*.password',
];

export interface LoggerSettings {
  level: string;
  /**
   * Pretty-print (pino-pretty) instead of JSON; ignored (JSON) when pino-pretty is not
   * installed. @defaultValue `process.stdout.isTTY`
   */
  pretty?: boolean;
  /** Destination (always JSON); defaults to stdout. */
  destination?: pino.DestinationStream;
}

const requireHere = createRequire(import.meta.url);

/**
 * Absolute path of pino-pretty's entry point, or `undefined` when it cannot be resolved (a
 * production install leaves devDependencies out).
 */
export function resolvePinoPretty(
  resolve: (id: string) => string = requireHere.resolve,
): string | undefined {
  try {
    return resolve('pino-pretty');
  } catch {
    return undefined;
  }
}

/** pino-pretty options; no colours when `NO_COLOR` is set and non-empty (no-color.org). */
export function prettyOptions(env: NodeJS.ProcessEnv = process.env): {
  colorize: boolean;
  translateTime: string;
  ignore: string;
} {
  const noColor = (env.NO_COLOR ?? '') !== '';
  return { colorize: !noColor, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' };
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // pino's own base (pid, hostname) plus the service name, so lines from workers on several
    // hosts can be told apart.
    base: { pid: process.pid, hostname: hostname(), service: 'sendmux-deactivator' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.destination) return pino(options, settings.destination);
  const pretty = settings.pretty ?? process.stdout.isTTY;
  const target = pretty ? resolvePinoPretty() : undefined;
  if (target !== undefined) {
    return pino({ ...options, transport: { target, options: prettyOptions() } });
  }
  return pino(options);
}
