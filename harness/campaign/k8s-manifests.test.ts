/**
 * deploy/kubernetes/*.yaml, validated without a cluster (none is reachable here): the Kubernetes API schema through
 * kubernetes-models, unknown fields through TypeScript's excess property checks on the models' interfaces, and our
 * own rules (k8s-validate.ts). The mutations at the end show each check can fail.
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { register as registerCampaign } from '../cli/campaign.js';
import { register as registerFuzz } from '../cli/fuzz.js';
import { register as registerRun } from '../cli/run.js';
import { packageRoot } from '../targets/state.js';
import { sshdConfig } from '../targets/sshd-config.js';
import { campaignErrors, parseManifest, schemaErrors, typeErrors, type K8sObject } from './k8s-validate.js';

const DIR = join(packageRoot(), 'deploy', 'kubernetes');

function optionsOf(path: readonly string[]): string[] | undefined {
  const program = new Command();
  registerFuzz(program);
  registerCampaign(program);
  registerRun(program);
  let cmd: Command | undefined = program;
  for (const name of path) cmd = cmd?.commands.find((c) => c.name() === name);
  return cmd ? cmd.options.map((o) => o.long!).filter(Boolean) : undefined;
}

const load = (f: string): K8sObject[] => parseManifest(readFileSync(join(DIR, f), 'utf8'), f);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
type JobLike = K8sObject & { spec: Record<string, unknown> & { template: { spec: { containers: Array<Record<string, unknown>>; initContainers?: Array<Record<string, unknown>> } } } };

describe('deploy/kubernetes manifests (validated against the Kubernetes API schema)', function () {
  this.timeout(120_000);
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

  it('has the campaign, merge and survey manifests', () => {
    expect(files).to.deep.equal(['fuzz-campaign.yaml', 'fuzz-merge.yaml', 'survey-fanout.yaml']);
  });

  for (const f of ['fuzz-campaign.yaml', 'fuzz-merge.yaml', 'survey-fanout.yaml']) {
    it(`${f}: schema, no unknown fields, our rules`, async () => {
      const objects = load(f);
      expect(schemaErrors(objects)).to.deep.equal([]);
      expect(await typeErrors(objects)).to.deep.equal([]);
      expect(campaignErrors(objects, optionsOf, { claims: ['ssh-harness-campaign'] })).to.deep.equal([]);
    });
  }

  it('the campaign is an Indexed Job whose completion index is the shard, beside its own target sidecar', () => {
    const job = load('fuzz-campaign.yaml').find((o) => o.kind === 'Job') as JobLike;
    expect(job.spec['completionMode']).to.equal('Indexed');
    expect(job.spec['podReplacementPolicy']).to.equal('Failed');
    const pod = job.spec.template.spec;
    expect(pod.initContainers![0]!['restartPolicy']).to.equal('Always');
    const args = pod.containers[0]!['args'] as string[];
    expect(args.slice(0, 3)).to.deep.equal(['fuzz', '--shard', 'auto']);
    expect(args).to.include.members(['--out', '/campaign/shards', '--target', 'tcp://127.0.0.1:2222']);
  });

  it('the sidecar sshd_config is what the harness writes for its OpenSSH targets', () => {
    const cm = load('fuzz-campaign.yaml').find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(cm.data['sshd_config']).to.equal(sshdConfig({
      port: 2222, major: 9, authorizedKeysFile: 'none', options: { extraConfig: ['LogLevel INFO'] },
      hostKeyPaths: ['ed25519', 'ecdsa', 'rsa'].map((t) => `/etc/ssh/ssh_host_${t}_key`),
    }));
  });

  it('each check catches what it is for', async () => {
    const objects = load('fuzz-campaign.yaml');
    const jobAt = objects.findIndex((o) => o.kind === 'Job');
    const mutate = (f: (j: JobLike) => void): K8sObject[] => { const c = clone(objects); f(c[jobAt] as JobLike); return c; };
    // a wrong enum value and a wrong type: the schema
    expect(schemaErrors(mutate((j) => { j.spec['completionMode'] = 'Indexd'; })).join()).to.match(/completionMode must be equal to one of the allowed values/);
    expect(schemaErrors(mutate((j) => { j.spec['completions'] = '4'; })).join()).to.match(/completions must be integer/);
    // a misspelt field, deep in the pod: only the typed models see it
    const typo = mutate((j) => { j.spec.template.spec.initContainers![0]!['restartPolicyy'] = 'Always'; });
    expect(schemaErrors(typo)).to.deep.equal([]);
    expect((await typeErrors(typo)).join()).to.match(/restartPolicyy/);
    // our rules: shard count, volumes, CLI options
    expect(campaignErrors(mutate((j) => { j.spec['completions'] = 5; j.spec['parallelism'] = 5; }), optionsOf, { claims: ['ssh-harness-campaign'] }).join()).to.match(/SSH_HARNESS_SHARDS=4 but completions 5/);
    expect(campaignErrors(mutate((j) => { (j.spec.template.spec.containers[0]!['args'] as string[]).push('--no-such-flag'); }), optionsOf).join()).to.match(/has no option --no-such-flag/);
    expect(campaignErrors(mutate((j) => { (j.spec.template.spec.containers[0]!['volumeMounts'] as Array<{ name: string }>)[0]!.name = 'nowhere'; }), optionsOf).join()).to.match(/undeclared volume nowhere/);
  });
});
