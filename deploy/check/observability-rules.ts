import { createMetricsRegistry } from '@domaeka/core';
import { EXPORTER_METRICS, readPromQL } from './promql.js';
import { registeredMetrics } from './source-facts.js';

/**
 * Every series name a rule or a panel may read: what our code registers
 * (histograms with their _bucket/_sum/_count), prom-client's default process
 * metrics (from the registry every service makes, services/core/src/ops.ts) and the
 * exporters' documented series.
 */
export async function knownMetrics(): Promise<Set<string>> {
  const known = new Set(Object.keys(EXPORTER_METRICS));
  const add = (name: string, type: string) => {
    known.add(name);
    if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) known.add(name + s);
  };
  for (const [name, { type }] of registeredMetrics()) add(name, type);
  for (const m of await createMetricsRegistry('check').getMetricsAsJSON()) add(m.name, String(m.type));
  return known;
}

const RULE_KEYS = new Set(['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
const DURATION = /^\d+(ms|s|m|h|d|w|y)$/;
const SEVERITIES = new Set(['warning', 'critical']);

/** A Prometheus rule file's problems: its shape (as `promtool check rules` reads it), each expression's syntax, each metric name. */
export function checkRuleFile(file: unknown, known: Set<string>): string[] {
  const problems: string[] = [];
  const groups = (file as { groups?: unknown })?.groups;
  if (!Array.isArray(groups) || groups.length === 0) return ['no groups'];
  const groupNames = new Set<string>();
  const alertNames = new Set<string>();
  for (const g of groups as { name?: unknown; rules?: unknown }[]) {
    if (typeof g.name !== 'string' || groupNames.has(g.name)) problems.push(`group name missing or repeated: ${String(g.name)}`);
    groupNames.add(String(g.name));
    if (!Array.isArray(g.rules) || g.rules.length === 0) {
      problems.push(`${g.name}: no rules`);
      continue;
    }
    for (const r of g.rules as Record<string, unknown>[]) {
      const id = `${g.name}/${String(r.alert)}`;
      for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) problems.push(`${id}: unknown field "${k}"`);
      if (typeof r.alert !== 'string' || !/^[A-Z][A-Za-z0-9]+$/.test(r.alert)) problems.push(`${id}: alert name must be CamelCase`);
      if (alertNames.has(String(r.alert))) problems.push(`${id}: alert name repeated`);
      alertNames.add(String(r.alert));
      if (r.for !== undefined && !DURATION.test(String(r.for))) problems.push(`${id}: for "${String(r.for)}" is not a duration`);
      const labels = (r.labels ?? {}) as Record<string, unknown>;
      if (!SEVERITIES.has(String(labels.severity))) problems.push(`${id}: labels.severity must be warning or critical`);
      const annotations = (r.annotations ?? {}) as Record<string, unknown>;
      if (typeof annotations.summary !== 'string') problems.push(`${id}: annotations.summary missing`);
      if (typeof r.expr !== 'string' || r.expr.trim() === '') {
        problems.push(`${id}: expr missing`);
        continue;
      }
      problems.push(...checkExpr(r.expr, known).map((p) => `${id}: ${p}`));
    }
  }
  return problems;
}

export function checkExpr(expr: string, known: Set<string>): string[] {
  const { errors, metrics } = readPromQL(expr);
  return [...errors, ...metrics.filter((m) => !known.has(m)).map((m) => `metric "${m}" is registered by no service and documented by no exporter we scrape`)];
}
