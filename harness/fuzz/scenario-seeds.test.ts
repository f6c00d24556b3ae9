import { expect } from 'chai';
import { loadDataFile } from '../scenario/loader.js';
import { runCase } from './executor.js';
import { scenarioSeeds, seedOfCheck } from './scenario-seeds.js';
import { selfTarget } from './self/self-target.js';
import { toJson } from './value.js';

const creds = { user: 'alice', password: 'pw' };
const seedFor = (file: string, id: string) => {
  const c = loadDataFile(file).find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${file}`);
  return toJson(seedOfCheck(c, creds));
};

describe('fuzz seeds from the scenario suite (issue 8: seed corpora)', function () {
  this.timeout(60_000);

  it('a check becomes its start phase plus what it sends; expectations are dropped; credentials are the target\'s', () => {
    expect(seedFor('scenarios/robustness/out-of-state.yaml', 'robustness.no-request-pending.data')).to.deep.equal({
      file: 'scenarios/robustness/out-of-state.yaml#robustness.no-request-pending.data', start: 'authenticated', algorithms: {},
      steps: [{ op: 'send', msg: { type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 4242, data: { $hex: Buffer.from('nobody home').toString('hex') } } }],
    });
    expect(seedFor('scenarios/auth/userauth.yaml', 'auth.password-success')).to.deep.include({ start: 'userauth' });
    expect(JSON.stringify(seedFor('scenarios/auth/userauth.yaml', 'auth.password-success'))).to.include('"user":"alice"').and.include('"password":"pw"');
  });

  it('channel variables become channel references; exec and a raw connection\'s lines and packets carry over', () => {
    expect(seedFor('scenarios/connection/channels.yaml', 'conn.close-without-eof')).to.deep.include({
      start: 'channel',
      steps: [
        { op: 'exec', chan: 0, command: 'cat' },
        { op: 'send', msg: { type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: { $chan: 0 }, data: { $hex: Buffer.from('unfinished').toString('hex') } } },
        { op: 'send', msg: { type: 'SSH_MSG_CHANNEL_CLOSE', recipientChannel: { $chan: 0 } } },
      ],
    });
    const raw = seedFor('scenarios/transport/binary-packet.yaml', 'bpp.packet-length-zero') as { start: string; steps: { op: string }[] };
    expect(raw.start).to.equal('pre-kex');
    expect(raw.steps.map((s) => s.op)).to.deep.equal(['bytes', 'bytes']);
  });

  it('the suite gives over a hundred distinct seeds; checks that cannot be cases are named with the reason', () => {
    const r = scenarioSeeds('scenarios', creds);
    expect(r.seeds.length).to.be.greaterThan(100);
    expect(new Set(r.seeds.map((s) => JSON.stringify(toJson([s.start, s.algorithms, s.steps])))).size).to.equal(r.seeds.length);
    for (const p of ['pre-kex', 'newkeys', 'userauth', 'authenticated', 'channel']) expect(r.seeds.some((s) => s.start === p), p).to.equal(true);
    expect(r.skipped.length).to.be.greaterThan(0);
    for (const s of r.skipped) expect(s).to.match(/^scenarios\/.+\.ya?ml#[a-z0-9.${}_-]+: .+/);
    expect(r.skipped.some((s) => /step "if"/.test(s))).to.equal(true);
  });

  it('every seed reaches its start on our server and none raises a finding there', async () => {
    const t = selfTarget();
    const r = scenarioSeeds('scenarios', t.credentials);
    for (const s of r.seeds) {
      const x = await runCase(t, s.start, s.steps, s.algorithms);
      expect(x.record.reached, s.file).to.equal(true);
      expect(x.finding, `${s.file}: ${x.finding?.message}`).to.equal(undefined);
    }
  });
});
