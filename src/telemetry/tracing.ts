/**
 * OpenTelemetry tracing, off by default and switched on by the standard `OTEL_*` variables:
 * on when `OTEL_SDK_DISABLED` is not `true` and either `OTEL_TRACES_EXPORTER` is set to
 * something other than `none`, or `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (`OTEL_TRACES_EXPORTER=none` keeps it off).
 *
 * When on, `startTracing` loads `@opentelemetry/sdk-node` (only then: the default path loads
 * none of it) and starts a NodeSDK configured by the environment as the SDK reads it (exporter,
 * `OTEL_EXPORTER_OTLP_PROTOCOL`, sampler, batch settings, resource attributes), with the
 * service name `sendmux-deactivator` unless `OTEL_SERVICE_NAME` (or `service.name` in
 * `OTEL_RESOURCE_ATTRIBUTES`) says otherwise. Traces only: metrics and logs are exported only
 * when `OTEL_METRICS_EXPORTER` / `OTEL_LOGS_EXPORTER` ask (Prometheus serves the metrics). No
 * auto-instrumentation: the spans are BullMQ's (bullmq-otel, see bullmq.ts) and the API
 * calls' (sendmux/client.ts), which never carry the API key or any header.
 *
 * The SDK may be absent: the Docker image leaves it out unless built with `--build-arg
 * TRACING=1` (scripts/prune-runtime.mjs). Tracing asked for without it logs an error saying so
 * ({@link sdkMissingMessage}) and the process runs on without tracing.
 *
 * Once per process: `start` runs the worker and the server, and both call it; the SDK shuts
 * down (flushing what is left, bounded) when the last of them calls `shutdown`.
 */
import type { Logger } from '../logger.js';

type Env = Record<string, string | undefined>;

/** Whether the environment asks for tracing (the rule above). */
export function tracingRequested(env: Env = process.env): boolean {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  if (exporter === 'none') return false;
  return (
    exporter !== '' ||
    set('OTEL_EXPORTER_OTLP_ENDPOINT') ||
    set('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  );
}

let requested: boolean | undefined;

/** {@link tracingRequested} for this process's environment, read once. */
export function tracingEnabled(): boolean {
  requested ??= tracingRequested();
  return requested;
}

export interface Tracing {
  enabled: boolean;
  /** Flush and stop the SDK once every caller of startTracing has called this (bounded). */
  shutdown(): Promise<void>;
}

/** Longest wait for the exporter to flush at shutdown. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

interface Sdk {
  shutdown(): Promise<void>;
}

let sdk: Promise<Sdk | undefined> | undefined;
let users = 0;
let loaded = false;

/** Whether this process loaded the OpenTelemetry SDK (for tests: the default path must not). */
export function tracingSdkLoaded(): boolean {
  return loaded;
}

/** Start tracing if the environment asks for it (once per process). */
export async function startTracing(logger: Logger): Promise<Tracing> {
  if (!tracingEnabled()) {
    logger.debug('tracing off (no OTEL_* exporter or endpoint set)');
    return { enabled: false, shutdown: () => Promise.resolve() };
  }
  users++;
  sdk ??= startSdk(logger);
  const started = await sdk;
  let done = false;
  return {
    enabled: started !== undefined,
    async shutdown() {
      if (done) return;
      done = true;
      if (--users > 0 || !started) return;
      sdk = undefined;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        started.shutdown().catch((err: unknown) => {
          logger.warn({ err: String(err) }, 'tracing: the last spans could not be exported');
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

async function startSdk(logger: Logger): Promise<Sdk | undefined> {
  try {
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    loaded = true;
    const env = process.env;
    const named =
      (env.OTEL_SERVICE_NAME ?? '').trim() !== '' ||
      /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
    const instance = new NodeSDK({
      ...(named ? {} : { serviceName: 'sendmux-deactivator' }),
      // Traces only, unless the environment asks for more.
      ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
      ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    });
    instance.start();
    logger.info(
      {
        exporter: env.OTEL_TRACES_EXPORTER ?? 'otlp',
        protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL,
        endpoint: withoutCredentials(
          env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT,
        ),
      },
      'tracing on (OpenTelemetry)',
    );
    return instance;
  } catch (err) {
    const missing = sdkMissingMessage(err);
    if (missing) logger.error(missing);
    else logger.error({ err: String(err) }, 'tracing could not start; running without it');
    return undefined;
  }
}

/** The SDK's package, loaded only when tracing is on. */
export const TRACING_SDK = '@opentelemetry/sdk-node';

/**
 * What to say when tracing is asked for and loading the SDK failed because it is not installed
 * (undefined for any other failure).
 */
export function sdkMissingMessage(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as Error & { code?: unknown }).code;
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  if (!notFound || !err.message.includes(TRACING_SDK)) return undefined;
  return (
    `tracing is asked for (OTEL_* variables) but ${TRACING_SDK} is not installed: ` +
    'the Docker image leaves it out unless built with --build-arg TRACING=1 ' +
    `(or install it: npm install ${TRACING_SDK}); running without tracing`
  );
}

/** An endpoint for the log: without a user or password in it (headers are never logged). */
function withoutCredentials(endpoint: string | undefined): string | undefined {
  if (endpoint === undefined) return undefined;
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}
