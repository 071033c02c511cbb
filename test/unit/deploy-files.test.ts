/**
 * The shipped operations files (deploy/): the Prometheus alert rules and the Grafana dashboard.
 *
 * - alerts.yml has the rule-file structure Prometheus loads (groups, rules, `for` as a
 *   Prometheus duration, labels, annotations) and this project's conventions (a severity, a
 *   summary and a description naming README sections that exist);
 * - every PromQL expression (rules, dashboard targets) parses with `@prometheus-io/lezer-promql`,
 *   the grammar of Prometheus's own UI: any error node fails;
 * - every metric they use is one this project registers (src/metrics: renaming a metric breaks
 *   this test), with labels it has; `up` and `probe_success` are Prometheus's and a blackbox
 *   exporter's;
 * - `promtool check rules` when promtool is installed (or `PROMTOOL` names it): skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { registry } from '../../src/metrics/metrics.js';
// Registers the gauges read at scrape time in the same registry.
import '../../src/metrics/scrape-gauges.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ALERTS = `${ROOT}deploy/prometheus/alerts.yml`;
const DASHBOARD = `${ROOT}deploy/grafana/sendmux-deactivator.json`;
const README = readFileSync(`${ROOT}README.md`, 'utf8');

/** Metrics that are not this project's: Prometheus's scrape health, a blackbox exporter's. */
const EXTERNAL_METRICS = new Set(['up', 'probe_success']);
/** Labels every scraped series has (added by Prometheus), beside the metric's own. */
const TARGET_LABELS = ['job', 'instance'];

// ---- the project's metrics ----

/** Every metric name this project exposes, with its labels (histograms: their three series). */
function projectMetrics(): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const m of registry.getMetricsAsArray()) {
    const labels = (m as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    if (String(m.type) === 'histogram') {
      out.set(`${m.name}_bucket`, [...labels, 'le']);
      out.set(`${m.name}_sum`, labels);
      out.set(`${m.name}_count`, labels);
    } else {
      out.set(m.name, labels);
    }
  }
  return out;
}
const METRICS = projectMetrics();

// ---- PromQL ----

interface Selector {
  metric: string;
  labels: string[];
}

/**
 * Parse one PromQL expression: its syntax errors (positions and the text there) and the
 * selectors it uses (metric name and the label names it matches on).
 */
function promql(expr: string): { errors: string[]; selectors: Selector[] } {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push(`at ${node.from}: "${expr.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
      }
      if (node.name === 'VectorSelector') {
        const sel = node.node;
        const id = sel.getChild('Identifier');
        const labels = sel
          .getChild('LabelMatchers')
          ?.getChildren('UnquotedLabelMatcher')
          .map((m) => m.getChild('LabelName'))
          .map((n) => (n ? expr.slice(n.from, n.to) : ''));
        selectors.push({ metric: id ? expr.slice(id.from, id.to) : '', labels: labels ?? [] });
      }
    },
  });
  return { errors, selectors };
}

/** What is wrong with one expression: syntax, unknown metrics, unknown labels. */
function problems(expr: string): string[] {
  const { errors, selectors } = promql(expr);
  const out = errors.map((e) => `syntax error ${e}`);
  if (selectors.length === 0) out.push('no metric selector');
  for (const { metric, labels } of selectors) {
    if (metric === '') {
      out.push('a selector without a metric name');
      continue;
    }
    if (EXTERNAL_METRICS.has(metric)) continue;
    const known = METRICS.get(metric);
    if (!known) {
      out.push(`unknown metric ${metric} (not in src/metrics' registry)`);
      continue;
    }
    for (const label of labels) {
      if (!known.includes(label) && !TARGET_LABELS.includes(label)) {
        out.push(`${metric} has no label ${label}`);
      }
    }
  }
  return out;
}

// ---- the rule file ----

/** A Prometheus duration (model.ParseDuration): units largest first, each at most once. */
const DURATION = /^(?:0|(?=\d)(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?)$/;
const duration = z.string().regex(DURATION, 'a Prometheus duration (5m, 1h30m)');
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const labelMap = z.record(z.string().regex(LABEL_NAME), z.string());

/** Prometheus's rule-file structure (rulefmt): unknown keys are an error there too. */
const alertingRule = z.strictObject({
  alert: z.string().regex(LABEL_NAME),
  expr: z.string().min(1),
  for: duration.optional(),
  keep_firing_for: duration.optional(),
  labels: labelMap.optional(),
  annotations: labelMap.optional(),
});
const recordingRule = z.strictObject({
  record: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/),
  expr: z.string().min(1),
  labels: labelMap.optional(),
});
const ruleFile = z.strictObject({
  groups: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        interval: duration.optional(),
        limit: z.number().int().nonnegative().optional(),
        rules: z.array(z.union([alertingRule, recordingRule])).min(1),
      }),
    )
    .min(1),
});

/** This project's conventions for an alert, on top of Prometheus's. */
const projectAlert = z.object({
  alert: z.string().regex(/^Sendmux[A-Za-z]+$/),
  for: duration,
  labels: z.object({ severity: z.enum(['info', 'warning', 'critical']) }),
  annotations: z.object({ summary: z.string().min(10), description: z.string().min(40) }),
});

/** The README sections a text points to: `README "A"`, `README "A" and "B"`. */
function readmeRefs(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/README:? ((?:"[^"]+"(?:,? and |, )?)+)/g)) {
    for (const q of (m[1] ?? '').matchAll(/"([^"]+)"/g)) out.push(q[1] ?? '');
  }
  return out;
}

/** A heading (`## X`) or a bold lead (`**X.**`) of the README. */
function readmeHas(section: string): boolean {
  const escaped = section.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^(#+ ${escaped}$|(\\* )?\\*\\*${escaped}\\.\\*\\*)`, 'm').test(README);
}

const parsedRules = ruleFile.safeParse(parseYaml(readFileSync(ALERTS, 'utf8')));
const groups = parsedRules.data?.groups ?? [];
const allRules = groups.flatMap((g) => g.rules);

describe('deploy/prometheus/alerts.yml', () => {
  it('has the structure of a Prometheus rule file, with unique group names', () => {
    expect(parsedRules.error?.message).toBeUndefined();
    expect(allRules.length).toBeGreaterThan(0);
    const names = groups.map((g) => g.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives every alert a `for`, a severity, a summary and a description', () => {
    for (const rule of allRules) {
      const r = projectAlert.safeParse(rule);
      expect(r.success, `${JSON.stringify(rule).slice(0, 80)}: ${r.error?.message}`).toBe(true);
    }
  });

  it('parses every expression as PromQL, with metrics and labels this project has', () => {
    const found = allRules
      .map((r) => ['alert' in r ? r.alert : r.record, problems(r.expr)] as const)
      .filter(([, p]) => p.length > 0);
    expect(Object.fromEntries(found)).toEqual({});
  });

  it('covers what the README says to alert on', () => {
    const exprs = allRules.map((r) => r.expr).join('\n');
    for (const needed of [
      'actions_total{outcome="failed"}',
      'breakers{state="open"}',
      'notifications_total{result=~"dropped|refused"}',
      'rate_limit_waits_total{cause="429"}',
      'up{',
      'queue_jobs{queue="actions"',
    ]) {
      expect(exprs, needed).toContain(needed);
    }
  });

  it('points its runbooks to README sections that exist', () => {
    const refs = allRules.flatMap((r) =>
      'annotations' in r ? readmeRefs(r.annotations?.description ?? '') : [],
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const section of refs) expect(readmeHas(section), section).toBe(true);
  });

  const promtool = process.env.PROMTOOL ?? 'promtool';
  const hasPromtool = spawnSync(promtool, ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasPromtool)('passes `promtool check rules` (when promtool is installed)', () => {
    const r = spawnSync(promtool, ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  });
});

// ---- the dashboard ----

const datasourceRef = z.strictObject({ type: z.string(), uid: z.string() });
const target = z.looseObject({
  refId: z.string().min(1),
  expr: z.string().min(1),
  datasource: datasourceRef,
});
const panel = z.looseObject({
  id: z.number().int(),
  type: z.string(),
  title: z.string().min(1),
  gridPos: z.object({ h: z.number(), w: z.number(), x: z.number(), y: z.number() }),
  datasource: datasourceRef.optional(),
  targets: z.array(target).optional(),
});
const variable = z.looseObject({
  name: z.string(),
  type: z.string(),
  query: z.union([z.string(), z.looseObject({ query: z.string() })]).optional(),
});
const dashboardSchema = z.looseObject({
  uid: z.string().min(1),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(36),
  panels: z.array(panel).min(1),
  templating: z.object({ list: z.array(variable) }),
});

/** Grafana's own variables in a query, as Prometheus would see them once substituted. */
function substituted(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}

const dashboardText = readFileSync(DASHBOARD, 'utf8');

describe('deploy/grafana/sendmux-deactivator.json', () => {
  const dashboard = dashboardSchema.parse(JSON.parse(dashboardText));
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('is a dashboard with a uid, a title and a Prometheus datasource variable', () => {
    const ds = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('hard-codes no datasource: every panel and target uses ${DS_PROMETHEUS}', () => {
    const uids = [...dashboardText.matchAll(/"uid":\s*"([^"]*)"/g)].map((m) => m[1]);
    // The dashboard's own uid and Grafana's built-in annotation source aside.
    const others = uids.filter(
      (u) => u !== dashboard.uid && u !== '-- Grafana --' && u !== '${DS_PROMETHEUS}',
    );
    expect(others).toEqual([]);
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
      for (const t of p.targets ?? []) expect(t.datasource.uid, p.title).toBe('${DS_PROMETHEUS}');
    }
  });

  it('gives every panel targets whose PromQL parses, with metrics and labels this project has', () => {
    const found: Record<string, string[]> = {};
    for (const p of panels) {
      if (!p.targets?.length) found[p.title] = ['no targets'];
      for (const t of p.targets ?? []) {
        const ps = problems(substituted(t.expr));
        if (ps.length > 0) found[`${p.title} ${t.refId}`] = ps;
      }
    }
    expect(found).toEqual({});
  });

  it("names only this project's metrics in its variables' label_values()", () => {
    for (const v of dashboard.templating.list) {
      const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = /^label_values\((\w+),\s*\w+\)$/.exec(q);
      if (v.type !== 'query') continue;
      expect(m, v.name).not.toBeNull();
      expect(METRICS.has(m?.[1] ?? ''), q).toBe(true);
    }
  });

  it('covers failed actions, open breakers, dropped notifications, 429s, the budget, the queue, readiness', () => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const needed of [
      'actions_total{job=~"$job", outcome="failed"}',
      'breakers{',
      'notifications_total{',
      'rate_limit_waits_total{job=~"$job", cause="429"}',
      'rate_limit_wait_seconds_total{',
      'queue_jobs{',
      'up{',
      'webhooks_accepted_total{',
      'breaker_trips_shared_total{',
    ]) {
      expect(exprs, needed).toContain(needed);
    }
  });

  it('points to README sections that exist', () => {
    const refs = readmeRefs(dashboardText.replace(/\\"/g, '"'));
    expect(refs.length).toBeGreaterThan(0);
    for (const section of refs) expect(readmeHas(section), section).toBe(true);
  });

  it('aggregates every counter over processes (sum, or max for the counts read from Redis)', () => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (/^(up|probe_success)\{/.test(t.expr)) continue;
        expect(t.expr, `${p.title} ${t.refId}`).toMatch(/^(sum|max|histogram_quantile)\b/);
      }
    }
  });
});
