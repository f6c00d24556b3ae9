/**
 * Which task of a fanned-out campaign this process is, from what the orchestrator puts in the environment:
 *
 * - `SSH_HARNESS_SHARD=K/N` — given outright (CI matrices, scripts);
 * - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based, set by the Job controller) and `SSH_HARNESS_SHARDS=N`;
 * - Docker Swarm replicated job: `SSH_HARNESS_TASK_SLOT={{.Task.Slot}}`, `SSH_HARNESS_NODE_ID={{.Node.ID}}` and
 *   `SSH_HARNESS_SHARDS=N`. Job tasks get slots 0..N-1, and Swarm's template renders slot 0 as the node id (it
 *   does so for every task whose slot is 0, as for global services), hence the node id to recognise it.
 *
 * Task K of N is 1-based, like `--shard K/N`.
 */
import { parseShard, type Shard } from '../fuzz/campaign.js';

export class TaskEnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskEnvError';
  }
}

export interface TaskShard extends Shard {
  /** Where K came from, for logs and reports. */
  readonly source: string;
}

const MAX_TASKS = 100_000;

function count(env: NodeJS.ProcessEnv, why: string): number {
  const raw = env['SSH_HARNESS_SHARDS'];
  if (raw === undefined) throw new TaskEnvError(`${why} is set but SSH_HARNESS_SHARDS (the number of tasks) is not`);
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_TASKS) throw new TaskEnvError(`SSH_HARNESS_SHARDS must be an integer 1..${MAX_TASKS}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function indexed(index: number, n: number, source: string): TaskShard {
  if (index >= n) throw new TaskEnvError(`${source}: index ${index} is outside 0..${n - 1} (SSH_HARNESS_SHARDS=${n})`);
  return { k: index + 1, n, source };
}

/** The task this process is; a TaskEnvError says which variable is missing or malformed. */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env): TaskShard {
  const given = env['SSH_HARNESS_SHARD'];
  if (given !== undefined) {
    try {
      return { ...parseShard(given), source: 'SSH_HARNESS_SHARD' };
    } catch (e) {
      throw new TaskEnvError(`SSH_HARNESS_SHARD: ${(e as Error).message}`);
    }
  }
  const k8s = env['JOB_COMPLETION_INDEX'];
  if (k8s !== undefined) {
    if (!/^\d+$/.test(k8s)) throw new TaskEnvError(`JOB_COMPLETION_INDEX must be a non-negative integer, got ${JSON.stringify(k8s)}`);
    return indexed(Number(k8s), count(env, 'JOB_COMPLETION_INDEX'), 'JOB_COMPLETION_INDEX');
  }
  const slot = env['SSH_HARNESS_TASK_SLOT'];
  if (slot !== undefined) {
    const node = env['SSH_HARNESS_NODE_ID'];
    const n = count(env, 'SSH_HARNESS_TASK_SLOT');
    if (node !== undefined && node !== '' && slot === node) return indexed(0, n, 'Swarm task slot 0');
    if (!/^\d+$/.test(slot)) {
      throw new TaskEnvError(`SSH_HARNESS_TASK_SLOT must be a slot number, got ${JSON.stringify(slot)}${node === undefined ? ' (Swarm writes slot 0 as the node id: set SSH_HARNESS_NODE_ID={{.Node.ID}} too)' : ''}`);
    }
    return indexed(Number(slot), n, 'Swarm task slot');
  }
  throw new TaskEnvError('no task index in the environment: set SSH_HARNESS_SHARD=K/N, or SSH_HARNESS_SHARDS=N with JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SSH_HARNESS_TASK_SLOT={{.Task.Slot}} and SSH_HARNESS_NODE_ID={{.Node.ID}} (Docker Swarm replicated job)');
}

/**
 * Fills a task's placeholders in an argument: `{k}` (1-based task), `{n}` (tasks), `{i}` (0-based), and an offset
 * form `{k+2200}` / `{i+2200}` — e.g. `tcp://127.0.0.1:{k+2200}` reaches the target container paired with the task.
 */
export function expandTaskTemplate(s: string, t: Shard): string {
  return s.replace(/\{([kin])(?:\+(\d{1,6}))?\}/g, (_, v: string, off: string | undefined) => {
    const base = v === 'k' ? t.k : v === 'n' ? t.n : t.k - 1;
    return String(base + (off ? Number(off) : 0));
  });
}
