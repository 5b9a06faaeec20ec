import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkExpr, checkRuleFile, knownMetrics } from './observability-rules.js';
import { readPromQL } from './promql.js';
import { renderKustomization } from './kustomize-render.js';
import { repoRoot } from './source-facts.js';

const dir = join(repoRoot, 'deploy/observability');
const rules = parse(readFileSync(join(dir, 'alerts.yml'), 'utf8')) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] };
const dashboard = JSON.parse(readFileSync(join(dir, 'grafana-dashboard.json'), 'utf8')) as { uid: string; panels: { id: number; title: string; type: string; targets?: { expr: string }[] }[] };
const scrape = {
  kubernetes: parse(readFileSync(join(dir, 'prometheus.yml'), 'utf8')),
  singleHost: parse(readFileSync(join(dir, 'prometheus.single-host.yml'), 'utf8')),
} as Record<string, { rule_files: string[]; scrape_configs: { job_name: string }[] }>;
const allRules = rules.groups.flatMap((g) => g.rules);
const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

let known: Set<string>;
beforeAll(async () => {
  known = await knownMetrics();
});

describe('deploy/observability', () => {
  it('knows the metrics the code registers, the process defaults and the exporters\' series', () => {
    for (const m of ['kb_dispatcher_target_duration_seconds_bucket', 'gateway_devices_connected', 'kb_runner_rpc_waiting', 'process_cpu_seconds_total', 'rabbitmq_detailed_queue_messages_ready']) expect(known).toContain(m);
  });

  it('alerts.yml is a well-formed rule file whose every expression parses and reads only known metrics', () => {
    expect(checkRuleFile(rules, known)).toEqual([]);
  });

  it('refuses a rule on a metric nobody registers, a broken expression and a malformed rule', () => {
    const bad = {
      groups: [
        {
          name: 'bad',
          rules: [
            { alert: 'MadeUp', expr: 'sum(kb_dispatcher_dead_letters_total) > 0', labels: { severity: 'warning' }, annotations: { summary: 'x' } },
            { alert: 'Broken', expr: 'sum(rate(kb_runner_runs_total[5m]) > 0', labels: { severity: 'warning' }, annotations: { summary: 'x' } },
            { alert: 'lowercase', expr: 'up == 0', for: '5 minutes', labels: {}, annotations: { summary: 'x' }, severity: 'critical' },
          ],
        },
      ],
    };
    const problems = checkRuleFile(bad, known);
    expect(problems).toContain('bad/MadeUp: metric "kb_dispatcher_dead_letters_total" is registered by no service and documented by no exporter we scrape');
    expect(problems.some((p) => p.startsWith('bad/Broken: syntax error'))).toBe(true);
    for (const why of ['unknown field "severity"', 'CamelCase', 'not a duration', 'labels.severity']) expect(problems.some((p) => p.startsWith('bad/lowercase') && p.includes(why)), why).toBe(true);
  });

  it('alerts on queue depth, dead letters, a runner gone, error rates and a dependency down', () => {
    const reads = (metric: string, label = '') => allRules.filter((r) => readPromQL(r.expr).metrics.includes(metric) && r.expr.includes(label)).map((r) => r.alert);
    expect(reads('rabbitmq_detailed_queue_messages_ready')).toContain('DomaekaQueueBacklog');
    expect(reads('rabbitmq_global_messages_dead_lettered_delivery_limit_total')).toContain('DomaekaMessagesDeadLettered');
    expect(reads('up', 'job="runner"')).toEqual(['DomaekaRunnerDown', 'DomaekaNoRunner']);
    expect(reads('kb_api_requests_total')).toContain('DomaekaApiErrorRate');
    expect(reads('kb_dispatcher_target_duration_seconds_count')).toContain('DomaekaTargetErrorRate');
    expect(reads('kb_dispatcher_dependency_down')).toContain('DomaekaDispatcherDatabaseDown');
    expect(reads('cnpg_collector_up')).toContain('DomaekaPostgresDown');
  });

  it('the dashboard\'s every query parses and reads only known metrics', () => {
    expect(panelExprs.length).toBeGreaterThan(15);
    expect(panelExprs.flatMap(({ panel, expr }) => checkExpr(expr, known).map((p) => `${panel}: ${p}`))).toEqual([]);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('the dashboard has a panel for each section of the admin page, titled as the page titles it (Korean / English)', () => {
    const dict = (file: string) => readFileSync(join(repoRoot, 'web/src/lib/i18n', file), 'utf8');
    const label = (text: string, key: string) => new RegExp(`'${key.replace('.', '\\.')}': '([^']+)'`).exec(text)?.[1];
    const [ko, en] = [dict('ko.ts'), dict('en.ts')];
    const titles = dashboard.panels.map((p) => p.title);
    for (const key of ['admin.containers', 'admin.perMinute', 'admin.responseMs', 'admin.phones', 'admin.cpu', 'admin.memory', 'admin.top', 'admin.queues', 'admin.throttled', 'admin.dead']) {
      const want = `${label(ko, key)} / ${label(en, key)}`;
      expect(titles, key).toContain(want);
    }
  });

  it('scrapes every job the rules and panels name, in both scrape files, and loads alerts.yml', () => {
    const jobsNamed = new Set([...allRules.map((r) => r.expr), ...panelExprs.map((p) => p.expr)].flatMap((e) => [...e.matchAll(/job=~?"([^"]+)"/g)].flatMap((m) => m[1]!.split('|'))));
    const components = renderKustomization(join(repoRoot, 'deploy/kubernetes/base'))
      .filter((o: any) => o.spec?.template?.metadata?.annotations?.['prometheus.io/scrape'] === 'true')
      .map((o: any) => o.spec.template.metadata.labels['app.kubernetes.io/component'] as string);
    const jobs = {
      kubernetes: new Set([...scrape.kubernetes!.scrape_configs.map((j) => j.job_name), ...components]),
      singleHost: new Set(scrape.singleHost!.scrape_configs.map((j) => j.job_name)),
    };
    for (const [name, set] of Object.entries(jobs)) {
      expect([...jobsNamed].filter((j) => !set.has(j)), name).toEqual([]);
      expect(scrape[name]!.rule_files).toEqual(['alerts.yml']);
    }
    expect(new Set(components)).toEqual(new Set(['gateway', 'dispatcher', 'runner', 'api', 'scheduler']));
    expect(existsSync(join(dir, 'alerts.yml'))).toBe(true);
  });
});
