/**
 * A fuzz campaign as a Docker Swarm replicated job (docker service create --mode replicated-job), the same thing
 * deploy/swarm/ documents as commands:
 *
 * - `<name>-target`: one target container per shard, a replicated service of the OpenSSH image on the host network;
 *   task slot s (1..N) listens on 127.0.0.1:<portBase + s> with the harness's sshd_config (a swarm config object).
 *   In-process targets (`self`, `self:<variant>`) need none.
 * - `<name>-shards`: N tasks of the harness image, `fuzz --shard auto --out /campaign/shards`: the task slot (0..N-1,
 *   slot 0 rendered as the node id) gives shard K = slot + 1, whose target is tcp://127.0.0.1:{k+portBase}. Every
 *   write goes to the shared volume atomically; restart policy `on-failure` restarts a killed task (exit 137) with
 *   the same slot, and the shard resumes from its checkpoint.
 *
 * The driver creates the swarm only when this node is not in one (and leaves it afterwards), and removes what it
 * created: services, config, volume (unless kept).
 */
import { execFile } from 'node:child_process';
import { TEST_PASSWORD, TEST_USER } from '../targets/test-user.js';
import { imageName, VERSION_LABEL, type Suite } from '../targets/openssh-container.js';
import { imageInspect } from '../targets/docker-api.js';
import { opensshMajor, sshdConfig } from '../targets/sshd-config.js';
import { PeerError } from '../targets/errors.js';
import { docker } from './docker-cli.js';

export interface SwarmCampaignOptions {
  /** The harness image (`campaign image`). */
  readonly image: string;
  readonly replicas: number;
  /** Prefix of every object created; [a-z0-9-]. */
  readonly name: string;
  /** `self`, `self:<variant>`, `openssh:bookworm`, `openssh:trixie` (a target container per shard) or `tcp://…`. */
  readonly target: string;
  /** Fuzz arguments besides target, shard and output (--runs/--time/--seed/--mode …). */
  readonly fuzzArgs: readonly string[];
  readonly portBase?: number;
  /** A named volume to use (e.g. an NFS-backed one on a multi-node swarm); default: a local volume created and removed here. */
  readonly volume?: string;
  readonly keepVolume?: boolean;
  /** CPU limit of each shard task and of each target task. */
  readonly cpusPerShard?: number;
  readonly restartMaxAttempts?: number;
  /**
   * Fan-out instead of fuzz shards: task K runs `campaign task` on the K-th item (replicas = items), the command's
   * output published under /campaign/tasks on the volume. The target is then not used.
   */
  readonly fanOut?: { readonly items: readonly string[]; readonly command: readonly string[] };
}

export interface SwarmTask {
  readonly id: string;
  /** Shard K (1-based). */
  readonly k: number;
  readonly state: string;
  readonly desired: string;
  readonly containerId?: string;
  readonly exitCode?: number;
  readonly error?: string;
}

const TARGET_CONFIG = '/etc/ssh/sshd_harness_config';
const isSuite = (s: string): s is Suite => s === 'bookworm' || s === 'trixie';

/** A port base with base+1 … base+n free on 127.0.0.1 (the paired target containers listen there). */
export async function freePortBase(n: number): Promise<number> {
  const { createServer } = await import('node:net');
  const free = (port: number): Promise<boolean> => new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let k = 1; k <= n && ok; k++) ok = await free(base + k);
    if (ok) return base;
  }
  throw new PeerError('setup-failed', `no ${n} consecutive free ports found on 127.0.0.1`);
}

/** What this node is in Swarm terms: `active` (a manager of a swarm), `inactive`, … */
export async function swarmState(): Promise<{ state: string; nodeId: string; manager: boolean }> {
  const out = await docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} {{.Swarm.ControlAvailable}}'], 15_000);
  const [state = '', nodeId = '', control = ''] = out.split(/\s+/);
  return { state, nodeId, manager: control === 'true' };
}

export class SwarmCampaign {
  private createdSwarm = false;
  private createdVolume = false;
  private readonly created: Array<['service' | 'config', string]> = [];
  nodeId = '';

  constructor(readonly o: SwarmCampaignOptions) {
    if (!/^[a-z][a-z0-9-]{0,40}$/.test(o.name)) throw new RangeError(`campaign name must be [a-z][a-z0-9-]{0,40}, got ${JSON.stringify(o.name)}`);
    if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 1000) throw new RangeError(`replicas must be 1..1000, got ${o.replicas}`);
    if (o.fanOut && o.fanOut.items.length !== o.replicas) throw new RangeError(`${o.fanOut.items.length} items for ${o.replicas} replicas: one task per item`);
  }

  get volume(): string { return this.o.volume ?? `${this.o.name}-data`; }
  get shardsService(): string { return `${this.o.name}-shards`; }
  get targetService(): string { return `${this.o.name}-target`; }
  private get suite(): Suite | undefined {
    const m = /^openssh:(\w+)$/.exec(this.o.target);
    if (m && !isSuite(m[1]!)) throw new RangeError(`unknown OpenSSH image suite ${JSON.stringify(m[1])} (bookworm or trixie)`);
    return m ? (m[1] as Suite) : this.o.target === 'openssh' ? 'bookworm' : undefined;
  }

  /** Joins (or creates) the swarm, the volume, the target service and the job. */
  async start(): Promise<void> {
    const s = await swarmState();
    if (s.state === 'inactive') {
      await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1'], 60_000);
      this.createdSwarm = true;
    } else if (s.state !== 'active' || !s.manager) {
      throw new PeerError('setup-failed', `this node is in swarm state ${JSON.stringify(s.state)}${s.manager ? '' : ' and not a manager'}: services can only be created from a manager`);
    }
    this.nodeId = (await swarmState()).nodeId;
    if (!this.o.volume) {
      await docker(['volume', 'create', '--label', `org.ssh-harness.campaign=${this.o.name}`, this.volume], 30_000);
      this.createdVolume = !this.o.keepVolume;
    }
    const limit = this.o.cpusPerShard !== undefined ? ['--limit-cpu', String(this.o.cpusPerShard)] : [];
    const portBase = this.o.portBase ?? (this.suite ? await freePortBase(this.o.replicas) : 0);
    let target = this.o.target;
    let creds: string[] = [];
    let targetName = this.o.target.replace(/[^\w.-]+/g, '-');
    const suite = this.o.fanOut ? undefined : this.suite;
    if (suite) {
      const img = await imageInspect(imageName(suite));
      if (!img) throw new PeerError('image-missing', `image ${imageName(suite)} is not built; run \`ssh-harness peers setup\``);
      const major = opensshMajor('OpenSSH_' + (img.labels[VERSION_LABEL]?.replace(/^\d+:/, '') ?? (suite === 'trixie' ? '10' : '9')));
      const config = sshdConfig({
        port: 22, major, authorizedKeysFile: 'none',
        hostKeyPaths: ['ed25519', 'ecdsa', 'rsa'].map((t) => `/etc/ssh/ssh_host_${t}_key`),
        // OpenSSH at DEBUG3 writes kilobytes per connection: INFO still logs fatal errors and crashes
        options: { extraConfig: ['LogLevel INFO'] },
      });
      await this.createConfig(`${this.o.name}-sshd`, config);
      await this.createService([
        '--name', this.targetService, '--mode', 'replicated', '--replicas', String(this.o.replicas), '--network', 'host',
        '--restart-condition', 'any', '--restart-delay', '1s', '--stop-grace-period', '2s', '--no-resolve-image', ...limit,
        '--config', `source=${this.o.name}-sshd,target=${TARGET_CONFIG},mode=0444`,
        '--env', 'SLOT={{.Task.Slot}}', '--env', `PORT_BASE=${portBase}`,
        imageName(suite), 'sh', '-c', `mkdir -p /run/sshd && ssh-keygen -A >/dev/null && exec /usr/sbin/sshd -D -e -f ${TARGET_CONFIG} -p $((PORT_BASE + SLOT))`,
      ]);
      target = `tcp://127.0.0.1:{k+${portBase}}`;
      creds = ['--user', TEST_USER, '--password', TEST_PASSWORD];
      targetName = `openssh-${suite}`;
    }
    await this.createService([
      '--name', this.shardsService, '--mode', 'replicated-job', '--replicas', String(this.o.replicas), '--network', 'host',
      '--restart-condition', 'on-failure', '--restart-delay', '1s', '--restart-max-attempts', String(this.o.restartMaxAttempts ?? 3),
      '--stop-grace-period', '2s', '--no-resolve-image', ...limit,
      '--mount', `type=volume,source=${this.volume},target=/campaign`,
      '--env', 'SSH_HARNESS_TASK_SLOT={{.Task.Slot}}', '--env', 'SSH_HARNESS_NODE_ID={{.Node.ID}}', '--env', `SSH_HARNESS_SHARDS=${this.o.replicas}`,
      this.o.image,
      ...(this.o.fanOut
        ? ['campaign', 'task', '--items', this.o.fanOut.items.join(','), '--out', '/campaign/tasks', '--', ...this.o.fanOut.command]
        : ['fuzz', '--shard', 'auto', '--out', '/campaign/shards', '--target', target, '--target-name', targetName, ...creds,
          '--findings-exit-code', '0', '--wait-target', '60', ...this.o.fuzzArgs]),
    ]);
  }

  private async createConfig(name: string, content: string): Promise<void> {
    await docker(['config', 'rm', name], 30_000).catch(() => undefined); // a leftover of a killed run
    await new Promise<void>((resolve, reject) => {
      const c = execFile('docker', ['config', 'create', '--label', `org.ssh-harness.campaign=${this.o.name}`, name, '-'], { timeout: 30_000 }, (err, _out, stderr) => (err ? reject(new PeerError('setup-failed', `docker config create: ${stderr || err.message}`)) : resolve()));
      c.stdin?.end(content);
    });
    this.created.push(['config', name]);
  }

  private async createService(args: readonly string[]): Promise<void> {
    const name = args[args.indexOf('--name') + 1]!;
    await docker(['service', 'rm', name], 30_000).catch(() => undefined);
    await docker(['service', 'create', '--detach', '--quiet', '--label', `org.ssh-harness.campaign=${this.o.name}`, ...args], 60_000);
    this.created.push(['service', name]);
  }

  /** Every task of the job so far (including restarted attempts), with its shard number. */
  async tasks(): Promise<SwarmTask[]> {
    const ids = (await docker(['service', 'ps', '-q', '--no-trunc', this.shardsService], 30_000)).split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    const raw = JSON.parse(await docker(['inspect', ...ids], 30_000)) as Array<{
      ID: string; Slot?: number; DesiredState: string; Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
    }>;
    return raw.map((t) => ({
      id: t.ID, k: (t.Slot ?? 0) + 1, state: t.Status.State, desired: t.DesiredState,
      ...(t.Status.ContainerStatus?.ContainerID ? { containerId: t.Status.ContainerStatus.ContainerID } : {}),
      ...(t.Status.ContainerStatus?.ExitCode !== undefined ? { exitCode: t.Status.ContainerStatus.ExitCode } : {}),
      ...(t.Status.Err ? { error: t.Status.Err } : {}),
    }));
  }

  /** Kills the running container of shard K (SIGKILL), as an out-of-memory kill or a node failure would. */
  async killShard(k: number): Promise<SwarmTask> {
    const t = (await this.tasks()).find((x) => x.k === k && x.state === 'running' && x.containerId);
    if (!t) throw new Error(`shard ${k} has no running task to kill`);
    await docker(['kill', '--signal', 'KILL', t.containerId!], 30_000);
    return t;
  }

  /**
   * Waits until every shard has a completed task, or one shard has failed past its restarts, or the deadline.
   * `onPoll` sees the tasks about once a second.
   */
  async wait(timeoutMs: number, onPoll?: (tasks: readonly SwarmTask[]) => Promise<void> | void): Promise<{ ok: boolean; tasks: SwarmTask[]; why?: string }> {
    const deadline = performance.now() + timeoutMs;
    const maxAttempts = (this.o.restartMaxAttempts ?? 3) + 1;
    for (;;) {
      const tasks = await this.tasks();
      await onPoll?.(tasks);
      const done = new Set(tasks.filter((t) => t.state === 'complete').map((t) => t.k));
      if (done.size === this.o.replicas) return { ok: true, tasks };
      for (let k = 1; k <= this.o.replicas; k++) {
        const mine = tasks.filter((t) => t.k === k);
        const failed = mine.filter((t) => ['failed', 'rejected'].includes(t.state));
        const live = mine.some((t) => !['failed', 'rejected', 'complete', 'shutdown'].includes(t.state));
        if (!done.has(k) && failed.length >= maxAttempts && !live) {
          return { ok: false, tasks, why: `shard ${k} failed ${failed.length} times: ${failed.map((t) => t.error ?? `exit ${t.exitCode}`).join('; ')}` };
        }
      }
      if (performance.now() > deadline) return { ok: false, tasks, why: `not finished within ${Math.round(timeoutMs / 1000)} s (complete: ${[...done].sort().join(', ') || 'none'})` };
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Where the shared volume is on this node (local driver): the merge reads it from here. */
  async volumePath(): Promise<string> {
    return docker(['volume', 'inspect', '--format', '{{.Mountpoint}}', this.volume], 30_000);
  }

  async logs(maxBytes = 1 << 20): Promise<string> {
    const out = await docker(['service', 'logs', '--raw', '--no-trunc', this.shardsService], 60_000).catch((e: Error) => `(no logs: ${e.message})`);
    return out.length > maxBytes ? out.slice(-maxBytes) : out;
  }

  /** Removes what start() created, in reverse order; leaves the swarm only if it created it. Never throws. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>): Promise<void> => { await f().catch((e: Error) => { problems.push(`${what}: ${e.message}`); }); };
    for (const [kind, name] of [...this.created].reverse()) await attempt(`${kind} rm ${name}`, () => docker([kind, 'rm', name], 60_000));
    // Swarm stops a removed service's containers but keeps exited task containers (the job's history), which
    // hold the volume: remove them, again until none is left (a task may still be shutting down)
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const left: string[] = [];
      for (const svc of [this.shardsService, this.targetService]) {
        left.push(...(await docker(['ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${svc}`], 30_000).catch(() => '')).split('\n').filter(Boolean));
      }
      if (left.length === 0) break;
      await docker(['rm', '-f', ...left], 60_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
    if (this.createdVolume) await attempt(`volume rm ${this.volume}`, () => docker(['volume', 'rm', '-f', this.volume], 60_000));
    if (this.createdSwarm) await attempt('swarm leave', () => docker(['swarm', 'leave', '--force'], 60_000));
    return problems;
  }
}
