/**
 * For test suites that run fuzz cases against host OpenSSH sshd: call inside `describe`. The suite needs the peer
 * (needPeer: skipped locally when it is missing, a failure in CI), starts it once and stops it after.
 */
import { getTarget } from '../targets/index.js';
import { needPeer } from '../targets/peer-test-kit.js';
import { resolveTarget } from './targets.js';
import type { FuzzTarget } from './link.js';

export function useHostSshd(): () => FuzzTarget {
  let target: FuzzTarget | undefined;
  before(async function () {
    await needPeer(this, 'host sshd', async () => (await getTarget('sshd')).availability());
    target = await resolveTarget('sshd');
  });
  after(async () => { await target?.close(); });
  return () => target!;
}
