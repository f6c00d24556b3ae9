import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseItems, runTask } from './task.js';
import { TaskEnvError } from './task-env.js';

describe('campaign: fanned-out tasks (one item per task, e.g. one peer of a survey)', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'task-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses item lists and refuses empty or duplicated ones', () => {
    expect(parseItems('a, b\n# comment\nc')).to.deep.equal(['a', 'b', 'c']);
    expect(() => parseItems(' , ')).to.throw(TaskEnvError, /empty/);
    expect(() => parseItems('a,b,a')).to.throw(TaskEnvError, /"a" is listed twice/);
  });

  it('runs the item of its index, publishes its output whole, and does not run a published item again', async () => {
    const items = ['self', 'self:crash-kexinit'];
    const command = ['run', '--target', '{item}', '--suite', 'smoke', '--report', '{out}'];
    const env = { ...process.env, JOB_COMPLETION_INDEX: '0' };
    const r = await runTask({ items, out: dir, command, env, output: 'ignore' });
    expect(r.item).to.equal('self');
    expect(r.published).to.equal(true);
    expect(r.record.exitCode).to.equal(0);
    expect(readdirSync(dir)).to.deep.equal(['task-1-self']);
    expect(readdirSync(r.dir)).to.include.members(['task.json', 'report.json', 'junit.xml']);
    const again = await runTask({ items, out: dir, command, env, output: 'ignore' });
    expect(again.ran).to.equal(false);
    const mismatch = await runTask({ items, out: dir, command, env: { ...env, SSH_HARNESS_SHARDS: '3' }, output: 'ignore' }).then(() => undefined, (e: unknown) => e);
    expect(mismatch).to.be.instanceOf(TaskEnvError).with.property('message').that.matches(/3 tasks for 2 items/);
  });

  it('a usage error is not a result: kept aside, hidden, and the retry runs again', async () => {
    const env = { ...process.env, SSH_HARNESS_TASK_SLOT: 'node-x', SSH_HARNESS_NODE_ID: 'node-x' };
    const bad = await runTask({ items: ['self'], out: dir, command: ['fuzz', '--target', '{item}', '--runs', 'many'], env, output: 'ignore' });
    expect(bad.published).to.equal(false);
    expect(bad.record.exitCode).to.equal(2);
    expect(readdirSync(dir).every((n) => n.startsWith('.failed-1-'))).to.equal(true);
    const good = await runTask({ items: ['self'], out: dir, command: ['fuzz', '--target', '{item}', '--runs', '64', '--out', '{out}', '--seed', '1'], env, output: 'ignore' });
    expect(good.published).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal(['task-1-self']);
    expect(existsSync(join(good.dir, 'shard-1-of-1', 'report.json'))).to.equal(true);
  });

  it('a task killed midway publishes nothing; its restart runs the item and publishes', async () => {
    const main = new URL('../cli/main.ts', import.meta.url).pathname;
    const args = ['campaign', 'task', '--items', 'self', '--out', dir, '--', 'fuzz', '--target', '{item}', '--runs', '6400', '--out', '{out}', '--seed', '2'];
    // its own process group, killed whole: what killing a container does to the task and the command it runs
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { env: { ...process.env, SSH_HARNESS_SHARD: '1/1' }, stdio: 'ignore', detached: true });
    const deadline = Date.now() + 60_000;
    while (!readdirSync(dir).some((n) => n.startsWith('.partial-1-') && existsSync(join(dir, n, 'shard-1-of-1', 'state.json')))) {
      if (Date.now() > deadline) throw new Error('the task did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).to.deep.equal([]);
    const r = await runTask({ items: ['self'], out: dir, command: args.slice(args.indexOf('--') + 1), env: { ...process.env, SSH_HARNESS_SHARD: '1/1' }, output: 'ignore' });
    expect(r.published).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal(['task-1-self']);
    expect((JSON.parse(readFileSync(join(r.dir, 'shard-1-of-1', 'state.json'), 'utf8')) as { attempts: unknown[] }).attempts, 'a fresh run, not a resume of the unpublished one').to.have.length(1);
  });
});
