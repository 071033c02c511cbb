/**
 * The rule sets a backtest compares: the current settings (BREAKER_*, BREAKER_ACCOUNT_RULES),
 * named `current`, and candidate files given with `--rules [name=]path`:
 *
 *   { "global": { "bounce_rate": 0.08, "bounce_warn_rate": 0.04, "window_s": 600 },
 *     "accounts": { "dprov_x": { "bounce_min_volume": 50 } } }
 *
 * Both parts are optional and take the fields of a BREAKER_ACCOUNT_RULES entry. `global` is set
 * over the current global settings (a field it leaves out keeps its current value); `accounts`
 * are set over the file's global, and are the only per-account rules of the set
 * (BREAKER_ACCOUNT_RULES is not carried into a candidate set). A bad file is a UsageError naming
 * the file and the field.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import type { Config } from '../../../config.js';
import { ConfigError, UsageError } from '../../../errors.js';
import {
  accountRulesSchema,
  applyRules,
  breakerRules,
  globalBreakerRules,
  rulesFromEntries,
  type BreakerRules,
  type RulesFor,
} from '../rules.js';

export interface RuleSet {
  name: string;
  /** Where it comes from: `settings`, or the file's path. */
  source: string;
  rules: RulesFor;
  /** The global rules of the set (what an account without its own entry gets). */
  global: BreakerRules;
}

const NAME_RULE = /^[A-Za-z0-9_.-]{1,40}$/;

const fileSchema = z.strictObject({
  global: accountRulesSchema.optional(),
  accounts: z.record(z.string(), z.unknown()).optional(),
});

/** The current settings as a rule set (`current`). */
export function currentRuleSet(config: Config): RuleSet {
  return {
    name: 'current',
    source: 'settings',
    rules: breakerRules(config),
    global: globalBreakerRules(config),
  };
}

/** `--rules [name=]path`: the name is the file's base name without its extension by default. */
export function parseRulesOption(value: string): { name: string; path: string } {
  const eq = value.indexOf('=');
  const named = eq > 0 && NAME_RULE.test(value.slice(0, eq));
  const path = named ? value.slice(eq + 1) : value;
  const name = named ? value.slice(0, eq) : basename(path, extname(path));
  if (path === '') throw new UsageError(`--rules ${value}: a file path is needed`);
  if (!NAME_RULE.test(name)) {
    throw new UsageError(
      `--rules ${value}: the rule set's name "${name}" must be 1..40 letters, digits, _ . or - (give one: name=path)`,
    );
  }
  return { name, path };
}

/** A candidate rule set from its file (JSON); a UsageError names the file and the field. */
export async function loadRuleSet(
  config: Config,
  given: { name: string; path: string },
): Promise<RuleSet> {
  const where = `--rules ${given.path}`;
  let text: string;
  try {
    text = await readFile(given.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UsageError(`${where}: cannot read the file (${code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`${where}: not JSON`);
  }
  return ruleSetOf(config, given.name, given.path, raw);
}

/** A rule set from the parsed file (see the file's header for its shape). */
export function ruleSetOf(config: Config, name: string, source: string, raw: unknown): RuleSet {
  const where = `--rules ${source}`;
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(
      parsed.error.issues
        .map((i) => `${where}: ${i.path.map(String).join('.') || '(top)'} ${i.message}`)
        .join('; '),
    );
  }
  try {
    const global = applyRules(
      globalBreakerRules(config),
      parsed.data.global ?? {},
      `${where}: global`,
    );
    const rules = rulesFromEntries(global, parsed.data.accounts ?? {}, `${where}: accounts`);
    return { name, source, rules, global };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.issues.join('; '));
    throw err;
  }
}

/** The rule sets of a run: `current`, then the files in the order given; names must differ. */
export async function ruleSetsOf(config: Config, files: readonly string[]): Promise<RuleSet[]> {
  const sets = [currentRuleSet(config)];
  for (const value of files) {
    const given = parseRulesOption(value);
    if (sets.some((s) => s.name === given.name)) {
      throw new UsageError(
        `--rules ${value}: a rule set named "${given.name}" is given already (name them: a=path b=path)`,
      );
    }
    sets.push(await loadRuleSet(config, given));
  }
  return sets;
}
