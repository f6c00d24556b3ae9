/**
 * Where peer material lives between runs: cached host keys, the test user's client key, and one record
 * per started process/container so `ssh-harness peers stop` can end leftovers of a killed run.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** `$SSH_HARNESS_STATE`, else /var/lib/ssh-harness as root, else ~/.cache/ssh-harness. */
export function stateDir(): string {
  const dir = process.env['SSH_HARNESS_STATE'] ?? (isRoot() ? '/var/lib/ssh-harness' : join(homedir(), '.cache', 'ssh-harness'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function stateSubdir(name: string): string {
  const dir = join(stateDir(), name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

let root: string | undefined;
/** The repository root (package ssh-harness-suite: the harness, whose workspace impl/ is the library), found from this module whether it runs from source (tsx) or from dist/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'ssh-harness-suite') return (root = dir);
    dir = dirname(dir);
  }
  throw new Error('cannot find the ssh-harness package root above ' + fileURLToPath(import.meta.url));
}

/** Files shipped beside the TypeScript (Python peers): always read from the source tree, never dist/. */
export function shippedFile(...parts: string[]): string {
  return join(packageRoot(), 'harness', 'targets', ...parts);
}

/**
 * A sibling TypeScript module to run as a child process: under tsx (source) it is the .ts file and needs
 * `--import tsx`; from dist/ it is the compiled .js.
 */
export function childModule(callerUrl: string, stem: string): { file: string; nodeArgs: string[] } {
  const fromSource = callerUrl.endsWith('.ts');
  const file = join(dirname(fileURLToPath(callerUrl)), stem + (fromSource ? '.ts' : '.js'));
  return { file, nodeArgs: fromSource ? ['--import', 'tsx'] : [] };
}
