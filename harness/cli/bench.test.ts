import { expect } from 'chai';
import { spawnSync } from 'node:child_process';

describe('cli: ssh-harness bench — bad arguments → a clear error and exit 2', function () {
  this.timeout(60_000);
  const bench = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'bench', ...args], { encoding: 'utf8', timeout: 50_000 });

  it('an unknown --only group names the known ones', () => {
    const r = bench('--only', 'kex,bogus');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/unknown group "bogus"; known: startup, handshake, kex, fuzz, sshd, trace, channels, impl/);
    expect(r.stdout).to.equal('');
  });

  it('--mib out of range', () => {
    const r = bench('--mib', '0');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/--mib must be an integer in 1\.\.65536/);
  });
});
