/**
 * The project's own Docker rules; `npm run lint:docker` runs dclint on the compose file first.
 *   tsx scripts/check-docker.ts [Dockerfile] [docker-compose.yml]   (exit 1 on any finding)
 * Dockerfile: dockerfile-utils' validator, its optional checks on, any diagnostic fails; the
 * runtime (last) stage runs as a non-root USER, its CMD is ["start"], a HEALTHCHECK asks /healthz.
 * Compose: redis runs with AOF (`--appendonly yes`) and `--maxmemory-policy noeviction`; the
 * deactivator and every other `start`/`worker`/`serve` service waits for a healthy redis.
 */ import { readFileSync } from 'node:fs';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { parse } from 'yaml';

/** A broken rule, at a 1-based line of a Dockerfile. */
export type Finding = { file: string; line?: number; rule: string; message: string };

const W = ValidationSeverity.WARNING;
/** dockerfile-utils' checks that are off by default, on. */
const STRICT = {
  ...{ deprecatedMaintainer: W, directiveCasing: W, emptyContinuationLine: W },
  ...{ instructionCasing: W, instructionJSONInSingleQuotes: W, instructionWorkdirRelative: W },
};

export function checkDockerfile(file: string): Finding[] {
  const text = readFileSync(file, 'utf8');
  const found: Finding[] = validate(text, STRICT).map((d) => ({
    file,
    line: d.range.start.line + 1,
    rule: 'dockerfile-utils',
    message: typeof d.message === 'string' ? d.message : d.message.value,
  }));
  const all = DockerfileParser.parse(text).getInstructions();
  const stage = all.slice(all.findLastIndex((i) => i.getKeyword() === 'FROM'));
  const last = (keyword: string) => stage.findLast((i) => i.getKeyword() === keyword);
  const args = (i: Instruction | undefined) => i?.getArgumentsContent()?.trim() ?? '';
  // At the instruction, else at the runtime stage's FROM.
  const add = (at: Instruction | undefined, rule: string, message: string) => {
    const line = (at ?? stage[0])?.getRange().start.line;
    found.push({ file, line: line === undefined ? undefined : line + 1, rule, message });
  };

  const user = last('USER');
  if (!user || /^(root|0)?(:|$)/.test(args(user))) {
    add(user, 'non-root-user', `the runtime stage runs as ${args(user) || 'root'}`);
  }
  const cmd = last('CMD');
  if (args(cmd).replace(/\s/g, '') !== '["start"]') {
    add(cmd, 'cmd-start', `the runtime stage's CMD must be ["start"], not ${args(cmd) || 'none'}`);
  }
  const health = last('HEALTHCHECK');
  if (!args(health).includes('/healthz') || /^NONE\b/i.test(args(health))) {
    add(health, 'healthcheck-healthz', 'the runtime stage needs a HEALTHCHECK that asks /healthz');
  }
  return found;
}

type Service = {
  build?: unknown;
  command?: string | string[];
  depends_on?: string[] | Record<string, { condition?: string } | undefined>;
};

export function checkCompose(file: string): Finding[] {
  const compose = parse(readFileSync(file, 'utf8')) as { services?: Record<string, Service> };
  const services = compose.services ?? {};
  const found: Finding[] = [];
  const add = (rule: string, message: string) => found.push({ file, rule, message });
  const argv = (s: Service | undefined) =>
    typeof s?.command === 'string' ? s.command.split(/\s+/) : (s?.command ?? []);

  const redis = argv(services.redis).join(' ');
  if (!/--appendonly[ =]yes\b/.test(redis)) {
    add('redis-appendonly', 'redis must run with `--appendonly yes` (AOF: queued jobs survive)');
  }
  if (!/--maxmemory-policy[ =]noeviction\b/.test(redis)) {
    add('redis-noeviction', 'redis must run with `--maxmemory-policy noeviction` (BullMQ)');
  }
  if (!services.deactivator) add('depends-on-redis', 'there is no deactivator service');
  for (const [name, s] of Object.entries(services)) {
    // Built from this image without a command: it runs the image's CMD, `start`.
    const runs = argv(s)[0] ?? (s.build === undefined ? '' : 'start');
    if (!['start', 'worker', 'serve'].includes(runs)) continue;
    const dep = Array.isArray(s.depends_on) ? undefined : s.depends_on?.redis;
    if (dep?.condition !== 'service_healthy') {
      add('depends-on-redis', `${name} must depend on redis with condition: service_healthy`);
    }
  }
  return found;
}

if (import.meta.filename === process.argv[1]) {
  const [dockerfile = 'Dockerfile', compose = 'docker-compose.yml'] = process.argv.slice(2);
  const found = [...checkDockerfile(dockerfile), ...checkCompose(compose)];
  for (const f of found) {
    console.error(`${f.file}${f.line ? `:${f.line}` : ''}: [${f.rule}] ${f.message}`);
  }
  if (found.length > 0) process.exit(1);
  console.log(`${dockerfile}, ${compose}: ok (dockerfile-utils + the project's rules)`);
}
