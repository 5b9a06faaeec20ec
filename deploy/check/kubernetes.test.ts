import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KustomizeError, renderKustomization, type K8sObject } from './kustomize-render.js';
import { validateObjects } from './kubernetes-schemas.js';
import { envNamesRead, repoRoot } from './source-facts.js';

const base = join(repoRoot, 'deploy/kubernetes/base');
const example = join(repoRoot, 'deploy/kubernetes/overlays/example');
const rendered = { base: renderKustomization(base), example: renderKustomization(example) };

/** The Dockerfile's targets, one image each. */
const TARGETS = ['gateway', 'dispatcher', 'runner', 'api', 'web', 'migrate', 'scheduler'];
/** The env each service listens on for its HTTP port (services/<name>/src/config.ts, web/server.js). */
const PORT_ENV: Record<string, string> = {
  gateway: 'GATEWAY_HTTP_PORT',
  dispatcher: 'DISPATCHER_HTTP_PORT',
  runner: 'RUNNER_HTTP_PORT',
  scheduler: 'SCHEDULER_HTTP_PORT',
  api: 'API_PORT',
  web: 'WEB_PORT',
};
/** Set only to build AMQP_URL through $(VAR) in the same container. */
const COMPOSING = new Set(['RABBITMQ_USER', 'RABBITMQ_PASSWORD', 'AMQP_HOST']);

const all = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind) as any[];
const one = (objs: K8sObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name) as any;
const podSpec = (o: any) => o.spec.template.spec;
const config = (objs: K8sObject[]) => one(objs, 'ConfigMap', 'domaeka-config').data as Record<string, string>;

describe('deploy/kubernetes', () => {
  it.each(Object.entries(rendered))('%s renders and every object passes the Kubernetes 1.33 schemas and the operators\' fields', async (_name, objs) => {
    expect(objs.length).toBeGreaterThan(15);
    expect(await validateObjects(objs)).toEqual([]);
  }, 60_000);

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl)('renders exactly what `kubectl kustomize` renders (base and example overlay)', () => {
    for (const [dir, ours] of [[base, rendered.base], [example, rendered.example]] as const) {
      const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      const theirs = parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
      const key = (o: K8sObject) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      const byKey = (list: K8sObject[]) => Object.fromEntries(list.map((o) => [key(o), o]));
      expect(byKey(ours)).toEqual(byKey(theirs));
    }
  });

  it('refuses wrong objects loudly: an unknown field, a wrong type, an operator field misspelt, an unknown kind', async () => {
    const gateway = structuredClone(one(rendered.example, 'Deployment', 'domaeka-gateway'));
    podSpec(gateway).containers[0].readinessProbe.httpGet.paht = '/readyz';
    const runner = structuredClone(one(rendered.example, 'Deployment', 'domaeka-runner'));
    podSpec(runner).containers[0].resources.limits.memory = 'two gigabytes';
    const rabbit = structuredClone(one(rendered.example, 'RabbitmqCluster', 'domaeka-rabbitmq'));
    rabbit.spec.replica = 3;
    const db = structuredClone(one(rendered.example, 'Cluster', 'domaeka-db'));
    db.spec.instances = '3';
    const odd = { apiVersion: 'apps/v1', kind: 'Deployement', metadata: { name: 'x' } } as K8sObject;
    const problems = await validateObjects([gateway, runner, rabbit, db, odd]);
    const said = (object: string, text: RegExp) => problems.some((p) => p.object === object && text.test(p.message));
    expect(said('Deployment/domaeka-gateway', /'"paht"' does not exist in type 'IHTTPGetAction'/)).toBe(true);
    expect(said('Deployment/domaeka-runner', /limits\/memory must match format "quantity"/)).toBe(true);
    expect(said('RabbitmqCluster/domaeka-rabbitmq', /'"replica"' does not exist/)).toBe(true);
    expect(said('Cluster/domaeka-db', /Type 'string' is not assignable to type 'number'/)).toBe(true);
    expect(said('Deployement/x', /unknown apiVersion\/kind/)).toBe(true);
    expect(problems).toHaveLength(5);
  }, 60_000);

  it('the renderer refuses a kustomization field it does not render instead of dropping it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-kustomize-'));
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources: []\ncommonLabels:\n  a: b\n');
    expect(() => renderKustomization(dir)).toThrow(KustomizeError);
    expect(() => renderKustomization(dir)).toThrow(/"commonLabels" is not rendered/);
  });

  it('runs every Dockerfile target as its own image, retagged by the overlay', () => {
    const images = (objs: K8sObject[]) => [...all(objs, 'Deployment'), ...all(objs, 'Job')].flatMap((o) => [...podSpec(o).containers, ...(podSpec(o).initContainers ?? [])].map((c: any) => c.image as string));
    expect(new Set(images(rendered.base))).toEqual(new Set(TARGETS.map((t) => `domaeka/${t}:latest`)));
    expect(new Set(images(rendered.example))).toEqual(new Set(TARGETS.map((t) => `registry.example.com/domaeka/${t}:1.0.0`)));
  });

  it('probes each service on the port it listens on: /healthz for liveness, /readyz for readiness (web: its first page)', () => {
    const cfg = config(rendered.example);
    for (const [service, env] of Object.entries(PORT_ENV)) {
      const d = one(rendered.example, 'Deployment', `domaeka-${service}`);
      const c = podSpec(d).containers[0];
      const port = (ref: string | number) => (typeof ref === 'number' ? ref : c.ports.find((p: any) => p.name === ref)?.containerPort);
      expect(port(c.livenessProbe.httpGet.port), `${service} liveness port`).toBe(Number(cfg[env]));
      expect(port(c.readinessProbe.httpGet.port), `${service} readiness port`).toBe(Number(cfg[env]));
      if (service === 'web') continue;
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(d.spec.template.metadata.annotations['prometheus.io/port']).toBe(cfg[env]);
    }
  });

  it('gives every container requests and limits for CPU and memory', () => {
    for (const o of [...all(rendered.example, 'Deployment'), ...all(rendered.example, 'Job')]) {
      for (const c of [...podSpec(o).containers, ...(podSpec(o).initContainers ?? [])]) {
        for (const k of ['requests', 'limits']) expect(Object.keys(c.resources?.[k] ?? {}).sort(), `${o.metadata.name}/${c.name} ${k}`).toEqual(['cpu', 'memory']);
      }
    }
  });

  it('sets only environment names the code reads (and the three that compose AMQP_URL)', () => {
    const read = envNamesRead();
    const set = new Set<string>(Object.keys(config(rendered.example)));
    for (const o of [...all(rendered.example, 'Deployment'), ...all(rendered.example, 'Job')]) {
      for (const c of podSpec(o).containers) for (const e of c.env ?? []) set.add(e.name);
    }
    expect([...set].filter((n) => !read.has(n) && !COMPOSING.has(n))).toEqual([]);
    const gw = podSpec(one(rendered.example, 'Deployment', 'domaeka-gateway')).containers[0];
    expect(gw.env.find((e: any) => e.name === 'AMQP_URL').value).toBe('amqp://$(RABBITMQ_USER):$(RABBITMQ_PASSWORD)@$(AMQP_HOST):5672');
  });

  it('names every Secret key it reads in the README, and gives the runner and the migrate job RUNNER_TABLES_DATABASE_URL', () => {
    const readme = readFileSync(join(repoRoot, 'deploy/kubernetes/README.md'), 'utf8');
    for (const o of [...all(rendered.example, 'Deployment'), ...all(rendered.example, 'Job')]) {
      for (const e of podSpec(o).containers[0].env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref) continue;
        expect(readme, ref.name).toContain(`\`${ref.name}\``);
        expect(readme, ref.key).toContain(`\`${ref.key}\``);
      }
    }
    for (const name of ['domaeka-runner', 'domaeka-migrate']) {
      const o = one(rendered.example, name === 'domaeka-migrate' ? 'Job' : 'Deployment', name);
      expect(podSpec(o).containers[0].env.map((e: any) => e.name)).toContain('RUNNER_TABLES_DATABASE_URL');
    }
  });

  it('puts the runner on sandbox nodes only, one per node, with the node\'s Docker engine and a socket folder at the same path', () => {
    const spec = podSpec(one(rendered.example, 'Deployment', 'domaeka-runner'));
    expect(spec.nodeSelector).toEqual({ 'domaeka.io/sandbox': 'true' });
    expect(spec.tolerations).toContainEqual({ key: 'domaeka.io/sandbox', operator: 'Equal', value: 'true', effect: 'NoSchedule' });
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    const volume = (name: string) => spec.volumes.find((v: any) => v.name === name);
    const mount = (name: string) => spec.containers[0].volumeMounts.find((m: any) => m.name === name);
    expect(volume('docker-socket').hostPath).toEqual({ path: '/var/run/docker.sock', type: 'Socket' });
    expect(mount('docker-socket').mountPath).toBe('/var/run/docker.sock');
    const dir = config(rendered.example).RUNNER_SOCKET_DIR;
    expect(volume('socket-dir').hostPath.path).toBe(dir);
    expect(mount('socket-dir').mountPath).toBe(dir);
    expect(spec.securityContext.supplementalGroups).toEqual([998]);
    // A rollout must never stop every runner at once, nor wait for a node that cannot come.
    expect(one(rendered.example, 'Deployment', 'domaeka-runner').spec.strategy).toEqual({ rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  it('keeps every pod but the runner within Pod Security "restricted" (non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp, no host paths)', () => {
    for (const o of [...all(rendered.example, 'Deployment'), ...all(rendered.example, 'Job')]) {
      if (o.metadata.name === 'domaeka-runner') continue;
      const spec = podSpec(o);
      expect(spec.securityContext, o.metadata.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect((spec.volumes ?? []).filter((v: any) => v.hostPath), o.metadata.name).toEqual([]);
      for (const c of spec.containers) expect(c.securityContext, `${o.metadata.name}/${c.name}`).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });

  it('opens only the bridge and the web app to everyone; the API to the web server; ops ports to Prometheus\'s namespace', () => {
    const policies = all(rendered.example, 'NetworkPolicy');
    const selects = (p: any, labels: Record<string, string>) => {
      const sel = p.spec.podSelector;
      const exact = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
      return exact && (sel.matchExpressions ?? []).every((e: any) => e.operator === 'In' && e.values.includes(labels[e.key]));
    };
    const openTo = (d: any) => {
      const labels = d.spec.template.metadata.labels;
      const ports = podSpec(d).containers[0].ports ?? [];
      const byName = (ref: string | number) => ports.find((p: any) => p.name === ref || p.containerPort === ref)?.name;
      const out: Record<string, string[]> = {};
      for (const p of policies.filter((p) => selects(p, labels))) {
        for (const rule of p.spec.ingress) {
          const who = rule.from ? rule.from.map((f: any) => (f.podSelector ? `pods:${f.podSelector.matchLabels['app.kubernetes.io/name']}` : `namespaces:${Object.keys(f.namespaceSelector.matchLabels).join()}`)) : ['anyone'];
          for (const port of rule.ports) (out[byName(port.port)] ??= []).push(...who);
        }
      }
      return out;
    };
    const reader = 'namespaces:domaeka.io/metrics-reader';
    const want: Record<string, Record<string, string[]>> = {
      'domaeka-gateway': { bridge: ['anyone'], ops: [reader] },
      'domaeka-web': { http: ['anyone'] },
      'domaeka-api': { http: ['pods:domaeka-web', reader] },
      'domaeka-dispatcher': { ops: [reader] },
      'domaeka-runner': { ops: [reader] },
      'domaeka-scheduler': { ops: [reader] },
    };
    for (const d of all(rendered.example, 'Deployment')) expect(openTo(d), d.metadata.name).toEqual(want[d.metadata.name]);
  });

  it('publishes the bridge on TCP 1490 keeping the phone\'s address, and the web app on its own Service', () => {
    const bridge = one(rendered.example, 'Service', 'domaeka-bridge');
    expect(bridge.spec.ports).toEqual([{ name: 'bridge', protocol: 'TCP', port: 1490, targetPort: 'bridge' }]);
    expect(bridge.spec.externalTrafficPolicy).toBe('Local');
    expect(bridge.spec.selector).toEqual({ 'app.kubernetes.io/name': 'domaeka-gateway' });
    const gw = podSpec(one(rendered.example, 'Deployment', 'domaeka-gateway')).containers[0];
    expect(gw.ports.find((p: any) => p.name === 'bridge').containerPort).toBe(Number(config(rendered.example).BRIDGE_PORT));
    expect(one(rendered.example, 'Service', 'domaeka-web').spec.selector).toEqual({ 'app.kubernetes.io/name': 'domaeka-web' });
    expect(config(rendered.example).API_URL).toBe('http://domaeka-api:8080');
  });

  it('runs RabbitMQ as a 3-node RabbitmqCluster and PostgreSQL as a CloudNativePG Cluster, with disruption budgets for the services', () => {
    expect(one(rendered.example, 'RabbitmqCluster', 'domaeka-rabbitmq').spec.replicas).toBe(3);
    expect(one(rendered.example, 'Cluster', 'domaeka-db').spec.instances).toBe(3);
    const budgets = all(rendered.example, 'PodDisruptionBudget').map((p) => p.spec.selector.matchLabels['app.kubernetes.io/name']);
    for (const s of ['gateway', 'dispatcher', 'runner', 'api', 'web', 'scheduler', 'rabbitmq']) expect(budgets).toContain(`domaeka-${s}`);
    for (const d of all(rendered.example, 'Deployment')) expect(d.spec.replicas, d.metadata.name).toBeGreaterThanOrEqual(2);
  });
});
