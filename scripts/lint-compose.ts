/**
 * Offline docker-compose.yml lint (no `docker compose config` on this machine).
 *
 *   tsx scripts/lint-compose.ts [path]   (default: docker-compose.yml)
 *
 * Parses the YAML strictly (duplicate keys, syntax errors and YAML warnings fail), checks the
 * shape of the parts of the Compose spec we use with zod, then the project rules:
 * every service has `image` or `build`; redis keeps data (`--appendonly yes`), never evicts
 * queue keys (`--maxmemory-policy noeviction`) and has a `redis-cli ping` healthcheck on a
 * volume; the worker waits for a healthy redis, talks to redis/sim by service name and gets
 * a stop_grace_period longer than its own shutdown timeout; a worker pointed at the simulator
 * uses the simulator's key, never `${SENDMUX_API_KEY}` (which may hold a real key).
 *
 * Every failure prints `<file>: [<rule>] <message>`; exit code 1 when any.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';

interface Finding {
  rule: string;
  message: string;
}

// ---- the parts of the Compose spec this project uses ----
const stringList = z.array(z.string());
const command = z.union([z.string(), stringList]);
const environment = z.union([
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  stringList,
]);
const dependsOn = z.union([
  stringList,
  z.record(
    z.string(),
    z.object({
      condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
      restart: z.boolean().optional(),
      required: z.boolean().optional(),
    }),
  ),
]);
const duration = z
  .string()
  .regex(/^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/, { error: 'must be a duration like 30s or 1m30s' });
const healthcheck = z.object({
  test: command,
  interval: duration.optional(),
  timeout: duration.optional(),
  retries: z.number().int().positive().optional(),
  start_period: duration.optional(),
  start_interval: duration.optional(),
  disable: z.boolean().optional(),
});
const build = z.union([
  z.string().min(1),
  z
    .object({
      context: z.string().min(1),
      dockerfile: z.string().optional(),
      target: z.string().optional(),
    })
    .loose(),
]);
const service = z
  .object({
    image: z.string().min(1).optional(),
    build: build.optional(),
    command: command.optional(),
    entrypoint: command.optional(),
    environment: environment.optional(),
    env_file: z.union([z.string(), stringList]).optional(),
    depends_on: dependsOn.optional(),
    healthcheck: healthcheck.optional(),
    ports: z.array(z.union([z.string(), z.number(), z.object({}).loose()])).optional(),
    volumes: z.array(z.union([z.string(), z.object({}).loose()])).optional(),
    restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
    stop_grace_period: duration.optional(),
    stop_signal: z.string().optional(),
    init: z.boolean().optional(),
    user: z.string().optional(),
  })
  .strict();
const composeFile = z
  .object({
    name: z.string().optional(),
    services: z
      .record(z.string(), service)
      .refine((s) => Object.keys(s).length > 0, { error: 'no services' }),
    volumes: z.record(z.string(), z.union([z.null(), z.object({}).loose()])).optional(),
    networks: z.record(z.string(), z.union([z.null(), z.object({}).loose()])).optional(),
  })
  .strict();

type Service = z.infer<typeof service>;
type ComposeFile = z.infer<typeof composeFile>;

// ---- helpers ----

/** `command`/`test` as tokens, whether written as a string or a list. */
function tokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value;
}

/** The value after `flag` (or in `flag=value`), if the flag appears in the tokens. */
function flagValue(list: string[], flag: string): string | undefined {
  for (const [i, t] of list.entries()) {
    if (t === flag) return list[i + 1];
    if (t.startsWith(`${flag}=`)) return t.slice(flag.length + 1);
  }
  return undefined;
}

/** True when `flag value` (or `flag=value`) appears in the tokens. */
function hasFlag(list: string[], flag: string, value: string): boolean {
  return list.some((t, i) => (t === flag && list[i + 1] === value) || t === `${flag}=${value}`);
}

function envOf(s: Service): Map<string, string> {
  const env = new Map<string, string>();
  if (Array.isArray(s.environment)) {
    for (const entry of s.environment) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  } else if (s.environment) {
    for (const [k, v] of Object.entries(s.environment)) env.set(k, v === null ? '' : String(v));
  }
  return env;
}

function dependencies(s: Service): Map<string, string> {
  const deps = new Map<string, string>();
  if (Array.isArray(s.depends_on))
    for (const name of s.depends_on) deps.set(name, 'service_started');
  else if (s.depends_on)
    for (const [name, d] of Object.entries(s.depends_on)) deps.set(name, d.condition);
  return deps;
}

/** Compose duration → milliseconds. */
function durationMs(value: string): number {
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    ms: 1,
    s: 1_000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) {
    total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 0);
  }
  return total;
}

/** The simulator's default accepted key (src/cli/commands/sim.ts --api-key). */
const SIM_DEFAULT_API_KEY = 'smx_root_sim_key';

/** The worker's own default (src/config.ts SHUTDOWN_TIMEOUT_MS). */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

// ---- rules ----

function projectRules(compose: ComposeFile): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, message: string): void => {
    findings.push({ rule, message });
  };
  const services = compose.services;
  const declaredVolumes = new Set(Object.keys(compose.volumes ?? {}));

  for (const [name, s] of Object.entries(services)) {
    if (s.image === undefined && s.build === undefined) {
      add('image-or-build', `service "${name}" has neither image nor build`);
    }
    for (const [dep] of dependencies(s)) {
      if (!(dep in services))
        add('depends-on-known', `service "${name}" depends on unknown service "${dep}"`);
      if (dep === name) add('depends-on-known', `service "${name}" depends on itself`);
    }
    for (const v of s.volumes ?? []) {
      if (typeof v !== 'string') continue;
      const source = v.split(':')[0] ?? '';
      const isNamed = v.includes(':') && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(source);
      if (isNamed && !declaredVolumes.has(source)) {
        add(
          'volumes-declared',
          `service "${name}" mounts volume "${source}" that is not declared under top-level volumes`,
        );
      }
    }
  }

  for (const required of ['redis', 'sim', 'worker']) {
    if (!(required in services)) add('services', `service "${required}" is missing`);
  }

  const redis = services.redis;
  if (redis) {
    const cmd = tokens(redis.command);
    if (!/^(docker\.io\/)?(library\/)?redis:7([.-]|$)/.test(redis.image ?? '')) {
      add('redis-image', `redis image "${redis.image ?? ''}" is not redis:7*`);
    }
    if (!hasFlag(cmd, '--appendonly', 'yes')) {
      add(
        'redis-appendonly',
        'redis command must contain `--appendonly yes` (jobs survive a restart)',
      );
    }
    if (!hasFlag(cmd, '--maxmemory-policy', 'noeviction')) {
      add(
        'redis-noeviction',
        'redis command must contain `--maxmemory-policy noeviction` (BullMQ requirement)',
      );
    }
    const test = tokens(redis.healthcheck?.test);
    if (!redis.healthcheck || redis.healthcheck.disable === true) {
      add('redis-healthcheck', 'redis needs a healthcheck');
    } else if (
      !(test.includes('redis-cli') && test.includes('ping')) &&
      !test.some((t) => /redis-cli .*ping/.test(t))
    ) {
      add(
        'redis-healthcheck',
        `redis healthcheck must run \`redis-cli ping\`, got ${JSON.stringify(redis.healthcheck.test)}`,
      );
    }
    const dataVolume = (redis.volumes ?? []).some((v) =>
      typeof v === 'string'
        ? /:\/data(:|$)/.test(v)
        : (v as { target?: unknown }).target === '/data',
    );
    if (!dataVolume) add('redis-volume', 'redis must mount a volume at /data');
  }

  const sim = services.sim;
  if (sim) {
    const cmd = tokens(sim.command);
    if (cmd[0] !== 'sim')
      add('sim-command', `sim command must start with "sim", got ${JSON.stringify(sim.command)}`);
    if (!hasFlag(cmd, '--host', '0.0.0.0'))
      add('sim-command', 'sim must listen on --host 0.0.0.0 inside its container');
    if (!hasFlag(cmd, '--port', '4010')) add('sim-command', 'sim must listen on --port 4010');
  }

  const worker = services.worker;
  if (worker) {
    const cmd = tokens(worker.command);
    if (cmd[0] !== 'worker')
      add(
        'worker-command',
        `worker command must be ["worker"], got ${JSON.stringify(worker.command)}`,
      );
    const deps = dependencies(worker);
    if (deps.get('redis') !== 'service_healthy') {
      add(
        'worker-depends-redis-healthy',
        'worker must depend on redis with `condition: service_healthy`',
      );
    }
    if (sim && !deps.has('sim')) add('worker-depends-sim', 'worker must depend on sim');
    const env = envOf(worker);
    const redisUrl = env.get('REDIS_URL') ?? '';
    if (!/^redis:\/\/redis(:6379)?(\/\d+)?$/.test(redisUrl)) {
      add('worker-env', `worker REDIS_URL must point at the redis service, got "${redisUrl}"`);
    }
    const baseUrl = env.get('SENDMUX_BASE_URL') ?? '';
    if (sim && !/^http:\/\/sim:4010\/api\/v1\/?$/.test(baseUrl)) {
      add('worker-env', `worker SENDMUX_BASE_URL must be http://sim:4010/api/v1, got "${baseUrl}"`);
    }
    const apiKey = env.get('SENDMUX_API_KEY') ?? '';
    if (!apiKey) add('worker-env', 'worker SENDMUX_API_KEY must be set');
    if (sim && apiKey) {
      // Never forward the user's (possibly real) key to the simulator.
      if (/\$\{?SENDMUX_API_KEY\b/.test(apiKey)) {
        add(
          'worker-sim-key',
          `worker talks to the simulator: SENDMUX_API_KEY must be the simulator's key (e.g. \${SIM_API_KEY:-smx_root_sim_key}), not "${apiKey}"`,
        );
      }
      const simKey = flagValue(tokens(sim.command), '--api-key') ?? SIM_DEFAULT_API_KEY;
      if (apiKey !== simKey) {
        add(
          'worker-sim-key',
          `worker SENDMUX_API_KEY "${apiKey}" is not the simulator's --api-key "${simKey}"`,
        );
      }
    }
    if (worker.restart !== 'unless-stopped' && worker.restart !== 'always') {
      add(
        'worker-restart',
        `worker restart policy should be unless-stopped, got "${worker.restart ?? 'no'}"`,
      );
    }
    const shutdownMs = Number(env.get('SHUTDOWN_TIMEOUT_MS') ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
    if (!worker.stop_grace_period) {
      add(
        'worker-stop-grace',
        'worker needs stop_grace_period (compose default 10s kills in-flight jobs)',
      );
    } else if (durationMs(worker.stop_grace_period) <= shutdownMs) {
      add(
        'worker-stop-grace',
        `worker stop_grace_period ${worker.stop_grace_period} must exceed SHUTDOWN_TIMEOUT_MS (${shutdownMs} ms)`,
      );
    }
    if (worker.stop_signal && !/^(SIGTERM|SIGINT)$/.test(worker.stop_signal)) {
      add(
        'worker-stop-grace',
        `worker stop_signal ${worker.stop_signal}: the worker drains on SIGTERM/SIGINT only`,
      );
    }
  }

  return findings;
}

function lintCompose(text: string): Finding[] {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const findings: Finding[] = [
    ...doc.errors.map((e) => ({ rule: 'yaml', message: `${e.code}: ${e.message}` })),
    ...doc.warnings.map((w) => ({ rule: 'yaml', message: `${w.code}: ${w.message}` })),
  ];
  if (findings.length > 0) return findings;

  const parsed = composeFile.safeParse(doc.toJS());
  if (!parsed.success) {
    return parsed.error.issues.map((i) => ({
      rule: 'schema',
      message: `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`,
    }));
  }
  return projectRules(parsed.data);
}

function main(): void {
  const file = process.argv[2] ?? 'docker-compose.yml';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    console.error(`${file}: [read] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const findings = lintCompose(text);
  for (const f of findings) console.error(`${file}: [${f.rule}] ${f.message}`);
  if (findings.length > 0) {
    console.error(`${file}: ${findings.length} problem(s)`);
    process.exit(1);
  }
  console.log(`${file}: ok (yaml + compose schema + project rules)`);
}

main();
