/**
 * Checks Kubernetes manifests without a cluster, three ways:
 *
 * 1. the Kubernetes API's JSON schema, through the typed models of the `kubernetes-models` package (types, enums,
 *    required fields, int32/int64 ranges, …);
 * 2. unknown fields — which the API server rejects under strict field validation but the schema lets through —
 *    by type-checking each object as a TypeScript object literal of the model's interface (excess property checks
 *    reach every nesting level);
 * 3. what the schema cannot know about our Jobs: indexed completions match the shard count the shards are told,
 *    mounts name declared volumes, and every ssh-harness option used exists in the CLI.
 *
 * Used by the tests (deploy/kubernetes/*.yaml) and kept out of the product's runtime: kubernetes-models is a
 * development dependency.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../targets/state.js';

const require = createRequire(import.meta.url);

interface ModelInfo { readonly module: string; readonly iface: string; readonly cls: string }
const MODELS: Readonly<Record<string, ModelInfo>> = {
  'batch/v1 Job': { module: 'kubernetes-models/batch/v1/Job', iface: 'IJob', cls: 'Job' },
  'v1 ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', iface: 'IConfigMap', cls: 'ConfigMap' },
  'v1 PersistentVolumeClaim': { module: 'kubernetes-models/v1/PersistentVolumeClaim', iface: 'IPersistentVolumeClaim', cls: 'PersistentVolumeClaim' },
};

export interface K8sObject { readonly apiVersion: string; readonly kind: string; readonly metadata?: { readonly name?: string }; readonly [k: string]: unknown }

export function parseManifest(text: string, file: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  return docs.map((d, i) => {
    if (d.errors.length) throw new Error(`${file} document ${i + 1}: ${d.errors[0]!.message}`);
    const v = d.toJS() as K8sObject;
    if (typeof v !== 'object' || v === null || typeof v.apiVersion !== 'string' || typeof v.kind !== 'string') throw new Error(`${file} document ${i + 1}: apiVersion and kind are required`);
    return v;
  });
}

const label = (o: K8sObject): string => `${o.kind}/${o.metadata?.name ?? '?'}`;

/** 1: the API schema. Returns one message per problem. */
export function schemaErrors(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const m = MODELS[`${o.apiVersion} ${o.kind}`];
    if (!m) { out.push(`${label(o)}: no model for ${o.apiVersion} ${o.kind}`); continue; }
    const Cls = (require(m.module) as Record<string, new (d: unknown) => { validate(): void }>)[m.cls]!;
    try {
      new Cls(o).validate();
    } catch (e) {
      out.push(`${label(o)}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** 2: unknown or mistyped fields, by type-checking the objects as literals of the models' interfaces. */
export async function typeErrors(objects: readonly K8sObject[]): Promise<string[]> {
  const ts = (await import('typescript')).default;
  const file = join(packageRoot(), '.k8s-manifest-check.ts');
  const known = objects.filter((o) => MODELS[`${o.apiVersion} ${o.kind}`]);
  const source = [
    ...[...new Set(known.map((o) => MODELS[`${o.apiVersion} ${o.kind}`]!))].map((m) => `import type { ${m.iface} } from '${m.module}';`),
    ...known.map((o, i) => `export const o${i}: ${MODELS[`${o.apiVersion} ${o.kind}`]!.iface} = ${JSON.stringify(o, null, 1)};`),
  ].join('\n');
  const options = { strict: true, noEmit: true, skipLibCheck: true, types: [], moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file)!;
  const lines = source.split('\n');
  return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
    const { line } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    const owner = [...lines.slice(0, line + 1)].reverse().find((l) => l.startsWith('export const o'));
    const idx = Number(/^export const o(\d+)/.exec(owner ?? '')?.[1] ?? -1);
    return `${idx >= 0 ? label(known[idx]!) : 'manifest'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (near ${JSON.stringify(lines[line]?.trim().slice(0, 80))})`;
  });
}

interface PodSpecLike {
  containers?: Array<{ name: string; args?: string[]; env?: Array<{ name: string; value?: string }>; volumeMounts?: Array<{ name: string }> }>;
  initContainers?: Array<{ name: string; volumeMounts?: Array<{ name: string }> }>;
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string }; configMap?: { name: string } }>;
}

/**
 * 3: our Jobs' own rules. `optionsOf(path)` gives the long options an ssh-harness (sub)command takes, e.g.
 * optionsOf(['fuzz']) or optionsOf(['campaign', 'task']); undefined for an unknown command.
 */
export function campaignErrors(objects: readonly K8sObject[], optionsOf: (command: readonly string[]) => readonly string[] | undefined, external: { claims?: readonly string[] } = {}): string[] {
  const out: string[] = [];
  const claims = new Set([...objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata?.name ?? ''), ...(external.claims ?? [])]);
  const configMaps = new Set(objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata?.name ?? ''));
  for (const job of objects.filter((o) => o.kind === 'Job')) {
    const spec = job['spec'] as { completionMode?: string; completions?: number; parallelism?: number; template?: { spec?: PodSpecLike } };
    const pod = spec.template?.spec ?? {};
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) out.push(`${label(job)}: container ${c.name} mounts undeclared volume ${m.name}`);
    }
    for (const v of volumes.values()) {
      if (v.persistentVolumeClaim && !claims.has(v.persistentVolumeClaim.claimName)) out.push(`${label(job)}: volume ${v.name} claims ${v.persistentVolumeClaim.claimName}, which no manifest defines`);
      if (v.configMap && !configMaps.has(v.configMap.name)) out.push(`${label(job)}: volume ${v.name} uses ConfigMap ${v.configMap.name}, which the manifest does not define`);
    }
    for (const c of pod.containers ?? []) {
      const args = c.args ?? [];
      const end = args.indexOf('--');
      const mine = end >= 0 ? args.slice(0, end) : args;
      const sub = mine[0] === 'campaign' || (mine[0] === 'fuzz' && mine[1] === 'merge') ? mine.slice(0, 2) : mine.slice(0, 1);
      const checkFlags = (cmdPath: readonly string[], list: readonly string[]): void => {
        const known = optionsOf(cmdPath);
        if (!known) { out.push(`${label(job)}: container ${c.name}: unknown command ssh-harness ${cmdPath.join(' ')}`); return; }
        for (const a of list) if (a.startsWith('--') && !known.includes(a)) out.push(`${label(job)}: container ${c.name}: ssh-harness ${cmdPath.join(' ')} has no option ${a}`);
      };
      checkFlags(sub, mine);
      if (end >= 0) { const inner = args.slice(end + 1); checkFlags(inner[0] === 'fuzz' && inner[1] === 'merge' ? inner.slice(0, 2) : inner.slice(0, 1), inner); }
      if (spec.completionMode !== 'Indexed') continue;
      if (spec.parallelism !== undefined && spec.parallelism !== spec.completions) out.push(`${label(job)}: parallelism ${spec.parallelism} ≠ completions ${spec.completions}: shards would wait for each other`);
      const shards = c.env?.find((e) => e.name === 'SSH_HARNESS_SHARDS')?.value;
      if (mine.includes('--shard')) {
        if (mine[mine.indexOf('--shard') + 1] !== 'auto') out.push(`${label(job)}: an Indexed Job's shards take --shard auto`);
        if (shards !== String(spec.completions)) out.push(`${label(job)}: SSH_HARNESS_SHARDS=${shards} but completions ${spec.completions}`);
      }
      if (sub.join(' ') === 'campaign task') {
        const items = mine[mine.indexOf('--items') + 1]?.split(',').filter(Boolean) ?? [];
        if (items.length !== spec.completions) out.push(`${label(job)}: ${items.length} items but completions ${spec.completions}`);
      }
    }
  }
  return out;
}
