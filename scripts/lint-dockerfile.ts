/**
 * Offline Dockerfile lint (no Docker engine needed).
 *
 *   tsx scripts/lint-dockerfile.ts [path]   (default: Dockerfile)
 *
 * 1. dockerfile-utils' validator with every configurable check turned on (as warnings); any
 *    diagnostic, error OR warning, fails.
 * 2. Project rules: multi-stage, node 24 bookworm-slim bases, `npm ci --omit=dev` in the
 *    runtime stage, non-root USER, exec-form ENTRYPOINT/CMD, NODE_ENV=production, STOPSIGNAL.
 *
 * Every failure prints `<file>:<line>: [<rule>] <message>`; exit code 1 when any.
 */
import { readFileSync } from 'node:fs';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';

interface Finding {
  line: number;
  rule: string;
  message: string;
}

/** An image reference we accept as a base: node 24 on Debian bookworm, slim variant. */
const NODE_24_SLIM =
  /^(?:docker\.io\/)?(?:library\/)?node:24(?:\.\d+){0,2}-bookworm-slim(?:@sha256:[a-f0-9]{64})?$/;

/** LSP DiagnosticSeverity: 1 error, 2 warning, 3 information, 4 hint. */
const SEVERITY_NAMES: Record<number, string> = { 1: 'error', 2: 'warning', 3: 'info', 4: 'hint' };

function lintDockerfile(content: string): Finding[] {
  const findings: Finding[] = [];
  const add = (line: number, rule: string, message: string): void => {
    findings.push({ line, rule, message });
  };

  // ---- 1. dockerfile-utils ----
  // Turn on the checks that are off by default; the rest keep their own severity. Warnings
  // fail the lint just like errors.
  const warn = ValidationSeverity.WARNING;
  const diagnostics = validate(content, {
    deprecatedMaintainer: warn,
    directiveCasing: warn,
    emptyContinuationLine: warn,
    instructionCasing: warn,
    instructionCmdMultiple: warn,
    instructionEntrypointMultiple: warn,
    instructionHealthcheckMultiple: warn,
    instructionJSONInSingleQuotes: warn,
    instructionWorkdirRelative: warn,
  });
  for (const d of diagnostics) {
    const severity = SEVERITY_NAMES[d.severity ?? 1] ?? 'error';
    const message = typeof d.message === 'string' ? d.message : d.message.value;
    add(d.range.start.line + 1, `dockerfile-utils/${severity}`, message);
  }

  // ---- 2. project rules ----
  const dockerfile = DockerfileParser.parse(content);
  const instructions = dockerfile.getInstructions();
  const lineOf = (i: Instruction): number => i.getRange().start.line + 1;
  const args = (i: Instruction): string =>
    (i.getArgumentsContent() ?? '').replace(/\s+/g, ' ').trim();

  // Split the instructions into stages (each starts at a FROM).
  const stages: { from: Instruction; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') stages.push({ from: instruction, body: [] });
    else stages.at(-1)?.body.push(instruction);
  }

  if (stages.length < 2) {
    add(
      1,
      'multi-stage',
      `expected a build stage and a runtime stage, found ${stages.length} FROM`,
    );
  }

  const stageNames = new Set<string>();
  for (const from of dockerfile.getFROMs()) {
    const image = from.getImage() ?? '';
    const stage = from.getBuildStage();
    // `FROM <earlier stage>` is fine; every external base must be node 24 bookworm-slim.
    if (!stageNames.has(image.toLowerCase()) && !NODE_24_SLIM.test(image)) {
      add(lineOf(from), 'node-24-slim-base', `base image "${image}" is not node:24-bookworm-slim`);
    }
    if (stage) stageNames.add(stage.toLowerCase());
  }

  const runtime = stages.at(-1);
  if (runtime) {
    const body = runtime.body;
    const only = (keyword: string): Instruction[] => body.filter((i) => i.getKeyword() === keyword);
    const fromLine = lineOf(runtime.from);

    // Production dependencies only.
    const npmCi = only('RUN').filter((i) => /\bnpm ci\b/.test(args(i)));
    if (npmCi.length === 0) {
      add(
        fromLine,
        'omit-dev',
        'the runtime stage must install its dependencies with `npm ci --omit=dev`',
      );
    }
    for (const run of npmCi) {
      if (!/--omit[= ]dev\b/.test(args(run))) {
        add(lineOf(run), 'omit-dev', '`npm ci` in the runtime stage must pass --omit=dev');
      }
    }
    for (const copy of only('COPY')) {
      if (/--from=/.test(args(copy)) && /node_modules/.test(args(copy))) {
        add(
          lineOf(copy),
          'omit-dev',
          'do not copy node_modules (with dev dependencies) from the build stage',
        );
      }
    }

    // Non-root user: the last USER of the runtime stage decides.
    const user = only('USER').at(-1);
    if (!user) {
      add(
        fromLine,
        'non-root-user',
        'the runtime stage has no USER instruction (it would run as root)',
      );
    } else {
      const name = args(user).split(':')[0] ?? '';
      if (name === '' || name === 'root' || name === '0') {
        add(lineOf(user), 'non-root-user', `the runtime stage runs as "${args(user)}"`);
      }
    }

    // Exec form, so SIGTERM reaches node and not a shell.
    for (const keyword of ['ENTRYPOINT', 'CMD']) {
      const found = only(keyword);
      const last = found.at(-1);
      if (!last) {
        add(fromLine, 'exec-form', `the runtime stage has no ${keyword}`);
      } else if (!args(last).startsWith('[')) {
        add(
          lineOf(last),
          'exec-form',
          `${keyword} must use the JSON (exec) form so signals reach node`,
        );
      }
    }

    const env = only('ENV').map(args).join(' ');
    if (!/\bNODE_ENV[= ]"?production"?(\s|$)/.test(env)) {
      add(fromLine, 'node-env', 'the runtime stage must set ENV NODE_ENV=production');
    }

    const stop = only('STOPSIGNAL').at(-1);
    if (!stop) {
      add(fromLine, 'stopsignal', 'the runtime stage must declare STOPSIGNAL (SIGTERM)');
    } else if (!/^(SIGTERM|SIGINT|15|2)$/.test(args(stop))) {
      add(
        lineOf(stop),
        'stopsignal',
        `STOPSIGNAL ${args(stop)}: the worker drains on SIGTERM/SIGINT only`,
      );
    }
  }

  // Something must compile TypeScript before the runtime stage copies dist/.
  const builds = stages.slice(0, -1).flatMap((s) => s.body.filter((i) => i.getKeyword() === 'RUN'));
  if (stages.length >= 2 && !builds.some((i) => /\bnpm run build\b/.test(args(i)))) {
    add(1, 'build-stage', 'no earlier stage runs `npm run build`');
  }

  return findings.sort((a, b) => a.line - b.line);
}

function main(): void {
  const file = process.argv[2] ?? 'Dockerfile';
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    console.error(`${file}: [read] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const findings = lintDockerfile(content);
  for (const f of findings) console.error(`${file}:${f.line}: [${f.rule}] ${f.message}`);
  if (findings.length > 0) {
    console.error(`${file}: ${findings.length} problem(s)`);
    process.exit(1);
  }
  console.log(`${file}: ok (dockerfile-utils + project rules)`);
}

main();
