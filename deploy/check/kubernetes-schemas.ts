import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { K8sObject } from './kustomize-render.js';
import { OPERATOR_KINDS } from './operator-crds.js';

/** What is wrong with one object, named `Kind/name`. */
export type ObjectProblem = { object: string; message: string };

const here = dirname(fileURLToPath(import.meta.url));
/** An in-memory file beside this one, so its imports resolve as this folder's would. */
const CHECK_FILE = join(here, '__rendered-manifests.ts');

/**
 * Every object against the Kubernetes schemas, two ways, both from
 * kubernetes-models (generated from the Kubernetes 1.33 OpenAPI):
 *
 * 1. its JSON-schema validator: types, required fields, formats
 *    (`cpu: lots` is not a quantity, `replicas: "2"` is not an integer);
 * 2. its TypeScript types, through the compiler: a field the API does not
 *    have is an error (`paht:` under `httpGet`). The JSON schemas allow
 *    unknown fields (Kubernetes' own OpenAPI does), the server would drop
 *    them silently, so this is the strict half (kubeconform's -strict).
 *
 * The operators' resources go through (2) only, against operator-crds.ts.
 */
export async function validateObjects(objects: K8sObject[]): Promise<ObjectProblem[]> {
  const problems: ObjectProblem[] = [];
  const typed: { object: K8sObject; typeName: string; module: string }[] = [];
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    const crd = OPERATOR_KINDS[`${o.apiVersion} ${o.kind}`];
    if (crd) {
      typed.push({ object: o, typeName: crd, module: './operator-crds.js' });
      continue;
    }
    const module = `kubernetes-models/${o.apiVersion}/${o.kind}`;
    let Model: new (data: unknown) => { validate(): void };
    try {
      Model = (await import(module))[o.kind];
      if (typeof Model !== 'function') throw new Error('no model');
    } catch {
      problems.push({ object: id, message: `unknown apiVersion/kind ${o.apiVersion} ${o.kind} (neither Kubernetes 1.33 nor deploy/check/operator-crds.ts)` });
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push({ object: id, message: (err as Error).message });
    }
    typed.push({ object: o, typeName: `I${o.kind}`, module });
  }
  problems.push(...typeCheck(typed));
  return problems;
}

let previous: ts.Program | undefined;

function typeCheck(items: { object: K8sObject; typeName: string; module: string }[]): ObjectProblem[] {
  const imports = new Map<string, string>();
  const lines: string[] = [];
  const starts: number[] = [];
  for (const item of items) {
    const key = `${item.module}#${item.typeName}`;
    if (!imports.has(key)) imports.set(key, `T${imports.size}`);
  }
  const header = [...imports].map(([key, alias]) => {
    const [module, typeName] = key.split('#');
    return `import type { ${typeName} as ${alias} } from '${module}';`;
  });
  let line = header.length;
  items.forEach((item, i) => {
    starts.push(line);
    const body = JSON.stringify(item.object, null, 1);
    lines.push(`export const o${i}: ${imports.get(`${item.module}#${item.typeName}`)} = ${body};`);
    line += body.split('\n').length;
  });
  const source = [...header, ...lines].join('\n');
  const host = ts.createCompilerHost({});
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === CHECK_FILE ? ts.createSourceFile(f, source, lang) : read(f, lang, ...rest));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => f === CHECK_FILE || exists(f);
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const program = ts.createProgram({ rootNames: [CHECK_FILE], options, host, oldProgram: previous });
  previous = program;
  const file = program.getSourceFile(CHECK_FILE)!;
  return ts.getPreEmitDiagnostics(program, file).map((d) => {
    const at = d.start === undefined ? 0 : file.getLineAndCharacterOfPosition(d.start).line;
    let i = starts.length - 1;
    while (i > 0 && starts[i]! > at) i--;
    const o = items[i]?.object;
    const text = file.text.split('\n')[at]?.trim() ?? '';
    return {
      object: o ? `${o.kind}/${o.metadata.name}` : 'manifests',
      message: `${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (at ${text.slice(0, 120)})`,
    };
  });
}
