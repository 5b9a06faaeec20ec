import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** One rendered Kubernetes object, as YAML gave it. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

/**
 * The part of Kustomize that deploy/kubernetes uses, so CI renders base +
 * overlay with nothing but npm packages (no kustomize binary comes from npm
 * or Debian): `resources` (files and folders), `namespace`, `images`,
 * `replicas` and `patches` in JSON 6902 form. Anything else in a
 * kustomization.yaml is refused by name rather than ignored; the unit test
 * compares this output with `kubectl kustomize` wherever kubectl is present.
 */
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'replicas', 'patches']);

/** Kinds the namespace transformer leaves alone (cluster-scoped). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass', 'PriorityClass']);

const REPLICATED = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

type ImageRule = { name: string; newName?: string; newTag?: string; digest?: string };
type PatchOp = { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown };
type Patch = { target: { kind?: string; name?: string }; patch?: string; path?: string };

export class KustomizeError extends Error {}

export function renderKustomization(dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const k = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) throw new KustomizeError(`${file}: "${key}" is not rendered by deploy/check/kustomize-render.ts (supported: ${[...SUPPORTED].join(', ')})`);
  }
  let objects: K8sObject[] = [];
  for (const entry of (k.resources as string[] | undefined) ?? []) {
    const path = resolve(dir, entry);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readObjects(path)));
  }
  objects = structuredClone(objects);
  if (typeof k.namespace === 'string') {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  for (const p of (k.patches as Patch[] | undefined) ?? []) applyPatch(objects, p, dir);
  for (const r of (k.replicas as { name: string; count: number }[] | undefined) ?? []) {
    const hits = objects.filter((o) => REPLICATED.has(o.kind) && o.metadata.name === r.name);
    if (hits.length === 0) throw new KustomizeError(`${file}: replicas: no workload named ${r.name}`);
    for (const o of hits) (o.spec as Record<string, unknown>).replicas = r.count;
  }
  const images = (k.images as ImageRule[] | undefined) ?? [];
  if (images.length) for (const o of objects) retagImages(o, images);
  return objects;
}

export function readObjects(path: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
    if (doc.errors.length) throw new KustomizeError(`${path}: ${doc.errors[0]!.message}`);
    const o = doc.toJS() as K8sObject | null;
    if (o === null) continue;
    if (!o.apiVersion || !o.kind || !o.metadata?.name) throw new KustomizeError(`${path}: an object without apiVersion, kind or metadata.name`);
    out.push(o);
  }
  return out;
}

function applyPatch(objects: K8sObject[], p: Patch, dir: string): void {
  const text = p.patch ?? (p.path ? readFileSync(resolve(dir, p.path), 'utf8') : '');
  const ops = parse(text) as unknown;
  if (!Array.isArray(ops)) throw new KustomizeError(`patch for ${p.target.kind}/${p.target.name}: only JSON 6902 patches (a list of ops) are rendered here`);
  const hits = objects.filter((o) => (!p.target.kind || o.kind === p.target.kind) && (!p.target.name || o.metadata.name === p.target.name));
  if (hits.length === 0) throw new KustomizeError(`patch: no object is ${p.target.kind}/${p.target.name}`);
  for (const o of hits) for (const op of ops as PatchOp[]) applyOp(o, op);
}

/** RFC 6902 add / replace / remove on one object. */
function applyOp(root: K8sObject, op: PatchOp): void {
  const keys = op.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop();
  if (last === undefined) throw new KustomizeError(`patch path "${op.path}" names no field`);
  let node: any = root;
  for (const key of keys) {
    node = Array.isArray(node) ? node[Number(key)] : node?.[key];
    if (node === undefined || node === null || typeof node !== 'object') throw new KustomizeError(`${root.kind}/${root.metadata.name}: patch path ${op.path} does not exist`);
  }
  const where = `${root.kind}/${root.metadata.name}: ${op.op} ${op.path}`;
  if (Array.isArray(node)) {
    const i = last === '-' ? node.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > node.length) throw new KustomizeError(`${where}: no such index`);
    if (op.op === 'add') node.splice(i, 0, op.value);
    else if (i >= node.length) throw new KustomizeError(`${where}: no such index`);
    else if (op.op === 'replace') node[i] = op.value;
    else node.splice(i, 1);
    return;
  }
  if (op.op !== 'add' && !(last in node)) throw new KustomizeError(`${where}: the field does not exist`);
  if (op.op === 'remove') delete node[last];
  else if (op.op === 'add' || op.op === 'replace') node[last] = op.value;
  else throw new KustomizeError(`${where}: unsupported op`);
}

/** The images transformer: every `containers` / `initContainers` list, whatever the kind. */
function retagImages(node: unknown, rules: ImageRule[]): void {
  if (Array.isArray(node)) return node.forEach((n) => retagImages(n, rules));
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
      for (const c of value as { image?: string }[]) if (c.image) c.image = retag(c.image, rules);
    } else retagImages(value, rules);
  }
}

function retag(image: string, rules: ImageRule[]): string {
  const at = image.indexOf('@');
  const base = at >= 0 ? image.slice(0, at) : image;
  const colon = base.lastIndexOf(':');
  const hasTag = colon > base.lastIndexOf('/');
  const name = hasTag ? base.slice(0, colon) : base;
  const rule = rules.find((r) => r.name === name);
  if (!rule) return image;
  const suffix = rule.digest ? `@${rule.digest}` : rule.newTag ? `:${rule.newTag}` : image.slice(name.length);
  return (rule.newName ?? name) + suffix;
}
