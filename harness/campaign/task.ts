/**
 * `ssh-harness campaign task --items A,B,… --out DIR -- <ssh-harness command>`: one item of a fanned-out list per
 * orchestrated task — a survey with one peer per task, a conformance run per target — the way fuzz shards fan
 * out: the task index comes from the environment (task-env.ts), `{item}`, `{k}`, `{n}`, `{i}` and `{out}` are
 * filled into the command, and the command runs as a child process writing into a private directory on the shared
 * volume that is renamed into place when it ends (`DIR/task-K-<item>/`, with `task.json`: item, exit code, times).
 * A task killed midway publishes nothing; its restart removes the half-written directory and runs the item again,
 * and a task whose item is already published does not run it twice.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from './atomic-write.js';
import { expandTaskTemplate, shardFromEnv, TaskEnvError, type TaskShard } from './task-env.js';

export interface TaskRecord {
  readonly kind: 'campaign-task';
  readonly version: 1;
  readonly item: string;
  readonly task: string;
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface TaskOptions {
  readonly items: readonly string[];
  readonly out: string;
  /** ssh-harness arguments, with placeholders. */
  readonly command: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Bound on the child's run time. */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
  /** The command's stdout/stderr: the task's own (default), both to the task's stderr (--json), or dropped (tests). */
  readonly output?: 'inherit' | 'stderr' | 'ignore';
}

export interface TaskOutcome {
  readonly shard: TaskShard;
  readonly item: string;
  readonly dir: string;
  /** false: an earlier attempt had published this item. */
  readonly ran: boolean;
  /** The command ended with a result (exit 0 or 1) and its output was published; otherwise it is kept aside, hidden. */
  readonly published: boolean;
  readonly record: TaskRecord;
}

const slug = (s: string): string => s.replace(/[^\w.-]+/g, '_').slice(0, 80);

export function taskDirName(k: number, item: string): string {
  return `task-${k}-${slug(item)}`;
}

/** Parses an item list (comma-separated, or one per line from a file's text); empty and duplicate items are errors. */
export function parseItems(text: string): string[] {
  const items = text.split(/[,\n]/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
  if (items.length === 0) throw new TaskEnvError('the item list is empty');
  const dup = items.find((x, i) => items.indexOf(x) !== i);
  if (dup !== undefined) throw new TaskEnvError(`item ${JSON.stringify(dup)} is listed twice`);
  return items;
}

export async function runTask(o: TaskOptions): Promise<TaskOutcome> {
  const env = o.env ?? process.env;
  // the number of tasks is the number of items unless the orchestrator says otherwise (then they must agree)
  const shard = shardFromEnv({ SSH_HARNESS_SHARDS: String(o.items.length), ...env });
  if (shard.n !== o.items.length) throw new TaskEnvError(`${shard.n} tasks for ${o.items.length} items: the job's task count must equal the number of items`);
  const item = o.items[shard.k - 1]!;
  const final = join(o.out, taskDirName(shard.k, item));
  if (existsSync(join(final, 'task.json'))) {
    const record = JSON.parse(readFileSync(join(final, 'task.json'), 'utf8')) as TaskRecord;
    o.log?.(`task ${shard.k}/${shard.n} (${item}) was published by an earlier attempt (exit ${record.exitCode}); not run again`);
    return { shard, item, dir: final, ran: false, published: true, record };
  }
  mkdirSync(o.out, { recursive: true });
  // what a killed attempt of this task left behind is never published
  for (const n of readdirSync(o.out)) if (n.startsWith(`.partial-${shard.k}-`) || n.startsWith(`.failed-${shard.k}-`)) rmSync(join(o.out, n), { recursive: true, force: true });
  const partial = join(o.out, `.partial-${shard.k}-${process.pid}`);
  mkdirSync(partial, { recursive: true });
  const args = o.command.map((a) => expandTaskTemplate(a.replaceAll('{item}', item).replaceAll('{out}', partial), shard));
  const startedAt = new Date().toISOString();
  o.log?.(`task ${shard.k}/${shard.n} (${shard.source}): ${item}: ssh-harness ${args.join(' ')}`);
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    // the same CLI as this process: the compiled one, or the sources under tsx (tests)
    const main = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../cli/main.ts' : '../cli/main.js', import.meta.url));
    const child = spawn(process.execPath, [...process.execArgv, main, ...args], { stdio: o.output === 'stderr' ? ['ignore', 2, 2] : ['ignore', o.output ?? 'inherit', o.output ?? 'inherit'], env: { ...env } });
    const timer = o.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), o.timeoutMs) : undefined;
    child.once('error', (e) => { if (timer) clearTimeout(timer); reject(e); });
    child.once('exit', (c, s) => { if (timer) clearTimeout(timer); resolve({ code: c, signal: s }); });
  });
  const record: TaskRecord = {
    kind: 'campaign-task', version: 1, item, task: `${shard.k}/${shard.n}`, command: args, exitCode: code, signal,
    startedAt, finishedAt: new Date().toISOString(),
  };
  writeFileAtomic(join(partial, 'task.json'), JSON.stringify(record, null, 2) + '\n');
  if (code !== 0 && code !== 1) {
    // a usage/setup error or a signal is not a result: kept aside for a look, and the orchestrator's retry runs again
    const failed = join(o.out, `.failed-${shard.k}-${process.pid}`);
    renameSync(partial, failed);
    return { shard, item, dir: failed, ran: true, published: false, record };
  }
  rmSync(final, { recursive: true, force: true }); // a directory without task.json: an interrupted publish
  renameSync(partial, final);
  return { shard, item, dir: final, ran: true, published: true, record };
}
