/**
 * Which source file each edge of an instrumented server belongs to, for the report's "coverage by source file"
 * (what afl-cov and llvm-cov's per-file summaries give a fuzzing user: where the campaign went, and where it did
 * not). The servers are built with `-fsanitize-coverage=inline-bool-flag`: every edge is one byte of the
 * `__sancov_bools` section, set by a `movb $1` the compiler put in the edge's function, and an edge's number is
 * its byte's offset in that section (the coverage file maps the section from its start). So `objdump -d` of the
 * binary names, per offset, the function whose code sets it, and `nm -l` (the binaries carry DWARF line
 * information) names the function's source file.
 *
 * Built once per binary (a few seconds) and cached next to it as `<binary>.edge-sources.json`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { normalize } from 'node:path';
import { createInterface } from 'node:readline';

export interface EdgeSources {
  /** Source files, relative to the source tree's root. */
  readonly files: readonly string[];
  /** Per edge number: index into `files`, or -1 when the edge's function has no line information. */
  readonly fileOf: Int32Array;
}

/** Reached edges of one source file. */
export interface FileCoverage {
  readonly file: string;
  /** Edges the file has (instrumented). */
  readonly edges: number;
  /** Of which the campaign reached. */
  readonly reached: number;
}

const FUNCTION = /^([0-9a-f]+) <(.+)>:$/;
/** An instruction that addresses an edge flag: `# 4d6a80 <__start___sancov_bools+0x1234>` (offset 0 has no `+`). */
const FLAG = /<__start___sancov_bools(?:\+0x([0-9a-f]+))?>/;

const cachePath = (binary: string): string => `${binary}.edge-sources.json`;
/** Bumped when the way the map is made changes: an older cache is rebuilt. */
const CACHE_VERSION = 2;

/** The binary's edge → source file map (cached), or undefined when binutils cannot read it. */
export async function loadEdgeSources(binary: string): Promise<EdgeSources | undefined> {
  const cache = cachePath(binary);
  try {
    if (existsSync(cache) && statSync(cache).mtimeMs >= statSync(binary).mtimeMs) {
      const j = JSON.parse(readFileSync(cache, 'utf8')) as { version?: number; files: string[]; fileOf: number[] };
      if (j.version === CACHE_VERSION) return { files: j.files, fileOf: Int32Array.from(j.fileOf) };
    }
  } catch {
    // a damaged cache is rebuilt
  }
  const built = await buildEdgeSources(binary);
  if (built) {
    try { writeFileSync(cache, JSON.stringify({ version: CACHE_VERSION, files: built.files, fileOf: Array.from(built.fileOf) })); } catch { /* read-only cache: rebuild next time */ }
  }
  return built;
}

/** Function start address → source file path, from `nm -l` (text symbols only). */
function functionFiles(binary: string): Map<string, string> {
  const r = spawnSync('nm', ['-l', '--defined-only', binary], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const out = new Map<string, string>();
  if (r.status !== 0) return out;
  for (const line of r.stdout.split('\n')) {
    const [head, loc] = line.split('\t');
    const p = head?.split(' ');
    if (!loc || !p || p.length < 3 || (p[1] !== 't' && p[1] !== 'T')) continue;
    // normalised: a file compiled twice under other names (OpenSSH's umac128.c includes umac.c) reads `dir/./umac.c` once
    out.set(p[0]!.replace(/^0+/, ''), normalize(loc.replace(/:\d+$/, '')));
  }
  return out;
}

async function buildEdgeSources(binary: string): Promise<EdgeSources | undefined> {
  const files = functionFiles(binary);
  if (files.size === 0) return undefined;
  const dump = spawn('objdump', ['-d', '--no-show-raw-insn', binary], { stdio: ['ignore', 'pipe', 'ignore'] });
  const edgeFile = new Map<number, string>();
  let file: string | undefined;
  let max = -1;
  for await (const line of createInterface({ input: dump.stdout })) {
    const f = FUNCTION.exec(line);
    if (f) { file = files.get(f[1]!.replace(/^0+/, '')); continue; }
    if (!line.includes('sancov_bools') || !line.includes('movb')) continue;
    const m = FLAG.exec(line);
    if (!m) continue;
    const edge = m[1] ? parseInt(m[1], 16) : 0;
    if (file) edgeFile.set(edge, file);
    if (edge > max) max = edge;
  }
  const code = await new Promise<number | null>((resolve) => { if (dump.exitCode !== null) resolve(dump.exitCode); else dump.once('close', resolve); });
  if (code !== 0 || max < 0) return undefined;
  // paths relative to the source tree: strip the directory every file shares
  const paths = [...new Set(edgeFile.values())];
  const root = commonDir(paths);
  const index = new Map(paths.map((p, i) => [p, i]));
  const fileOf = new Int32Array(max + 1).fill(-1);
  for (const [edge, p] of edgeFile) fileOf[edge] = index.get(p)!;
  return { files: paths.map((p) => p.slice(root.length)), fileOf };
}

function commonDir(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let prefix = paths[0]!.slice(0, paths[0]!.lastIndexOf('/') + 1);
  for (const p of paths) while (!p.startsWith(prefix)) prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1);
  return prefix;
}

/** Per source file: its edges and how many of them `reached` (edge numbers) holds; files without edges left out. */
export function coverageByFile(src: EdgeSources, reached: Iterable<number>): FileCoverage[] {
  const total = new Array<number>(src.files.length).fill(0);
  const hit = new Array<number>(src.files.length).fill(0);
  for (const f of src.fileOf) if (f >= 0) total[f]!++;
  for (const e of reached) {
    const f = e < src.fileOf.length ? src.fileOf[e]! : -1;
    if (f >= 0) hit[f]!++;
  }
  return src.files.map((file, i) => ({ file, edges: total[i]!, reached: hit[i]! })).filter((r) => r.edges > 0);
}
