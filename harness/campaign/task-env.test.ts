import { expect } from 'chai';
import { expandTaskTemplate, shardFromEnv, TaskEnvError } from './task-env.js';

describe('campaign: task index from the orchestrator environment', () => {
  it('reads K/N given outright', () => {
    expect(shardFromEnv({ SSH_HARNESS_SHARD: '3/4' })).to.deep.include({ k: 3, n: 4 });
  });

  it('maps a Kubernetes completion index (0-based) to shard K', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0', SSH_HARNESS_SHARDS: '2' })).to.deep.include({ k: 1, n: 2 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1', SSH_HARNESS_SHARDS: '2' })).to.deep.include({ k: 2, n: 2 });
  });

  it('maps Swarm job slots, whose slot 0 the template renders as the node id', () => {
    const node = 'm4an4ugdftkp68jodjiewxhqx';
    expect(shardFromEnv({ SSH_HARNESS_TASK_SLOT: node, SSH_HARNESS_NODE_ID: node, SSH_HARNESS_SHARDS: '2' })).to.deep.include({ k: 1, n: 2 });
    expect(shardFromEnv({ SSH_HARNESS_TASK_SLOT: '1', SSH_HARNESS_NODE_ID: node, SSH_HARNESS_SHARDS: '2' })).to.deep.include({ k: 2, n: 2 });
  });

  it('refuses missing, malformed and out-of-range indexes with the variable named', () => {
    const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{}, /no task index/],
      [{ SSH_HARNESS_SHARD: '5/4' }, /SSH_HARNESS_SHARD/],
      [{ JOB_COMPLETION_INDEX: '1' }, /SSH_HARNESS_SHARDS/],
      [{ JOB_COMPLETION_INDEX: '2', SSH_HARNESS_SHARDS: '2' }, /outside 0\.\.1/],
      [{ JOB_COMPLETION_INDEX: '-1', SSH_HARNESS_SHARDS: '2' }, /non-negative/],
      [{ JOB_COMPLETION_INDEX: '0', SSH_HARNESS_SHARDS: '0' }, /SSH_HARNESS_SHARDS must be/],
      [{ SSH_HARNESS_TASK_SLOT: 'abc', SSH_HARNESS_SHARDS: '2' }, /SSH_HARNESS_NODE_ID/],
      [{ SSH_HARNESS_TASK_SLOT: '7', SSH_HARNESS_NODE_ID: 'x', SSH_HARNESS_SHARDS: '2' }, /outside/],
    ];
    for (const [env, re] of bad) expect(() => shardFromEnv(env), JSON.stringify(env)).to.throw(TaskEnvError, re);
  });

  it('fills {k} {n} {i} and offsets into arguments', () => {
    expect(expandTaskTemplate('tcp://127.0.0.1:{k+2200}', { k: 2, n: 3 })).to.equal('tcp://127.0.0.1:2202');
    expect(expandTaskTemplate('/out/{i}-of-{n}/{k}', { k: 2, n: 3 })).to.equal('/out/1-of-3/2');
    expect(expandTaskTemplate('no {x} here', { k: 1, n: 1 })).to.equal('no {x} here');
  });
});
