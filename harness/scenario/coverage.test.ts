/**
 * Conformance depth (issue 21): the suite has at least 350 checks, and every RFC section that had no citing check
 * is now cited by a check that exercises it on the wire — run here against our own server (or, for sections only
 * client-direction checks cite, against OpenSSH's client): at least one citing check passes, and it sent the peer
 * something beyond the key exchange (a protocol message of its own, or a deliberate deviation).
 */
import { expect } from 'chai';
import { knownFor } from './known.js';
import { runChecks } from './runner.js';
import { expandClientChecks, startTarget } from './session.js';
import { builtinChecksSync } from './suite.js';
import type { Check, CheckResult } from './types.js';

/** The sections issue 21 lists as uncited. */
const SECTIONS: readonly (readonly [string, string])[] = [
  ...['§4.2.1', '§4.3.1', '§4.3.4', '§4.4.1', '§4.5.1', '§4.6.1'].map((s) => ['RFC 4250', s] as const),
  ['RFC 4251', '§6'], ['RFC 4251', '§9.3.3'], ['RFC 4252', '§6'],
  ...['§6.1', '§6.3.1', '§6.3.2', '§6.7', '§6.9', '§7.1', '§7.2', '§8'].map((s) => ['RFC 4254', s] as const),
  ['RFC 4256', '§3.1'], ['RFC 4256', '§3.3'], ['RFC 4344', '§3.1'],
  ...['§2.5', '§3.2', '§3.2.1', '§3.2.3', '§3.3', '§3.3.1', '§3.4'].map((s) => ['RFC 8308', s] as const),
  ['RFC 8332', '§5.3'],
];

/** Messages every connection sends; a check that sends nothing else (and deviates nowhere) did not exercise much. */
const HANDSHAKE = new Set(['SSH_MSG_KEXINIT', 'SSH_MSG_NEWKEYS', 'SSH_MSG_KEX_ECDH_INIT', 'SSH_MSG_KEX_ECDH_REPLY', 'SSH_MSG_KEXDH_INIT', 'SSH_MSG_KEXDH_REPLY', 'SSH_MSG_DISCONNECT']);

const cites = (c: Check, [rfc, section]: readonly [string, string]) => c.spec.some((s) => s.rfc === rfc && s.section.replace(/^§/, '') === section.replace(/^§/, ''));

function exercised(r: CheckResult): boolean {
  const ours = r.role === 'server' ? 'c2s' : 's2c';
  return r.evidence.some((l) => l.dir === ours && (l.deviation !== undefined || !HANDSHAKE.has(l.text)));
}

describe('harness/scenario: conformance depth (issue 21)', function () {
  this.timeout(180_000);
  const all = builtinChecksSync();

  it('has at least 350 checks, at least 350 of them server checks', () => {
    const server = all.filter((c) => c.role === 'server').length;
    console.log(`      ${all.length} checks (${server} server, ${all.length - server} client), citing ${new Set(all.flatMap((c) => c.spec.map((s) => `${s.rfc} ${s.section}`))).size} sections`);
    expect(all.length).to.be.at.least(350);
    expect(server).to.be.at.least(350);
  });

  it('cites every listed section from at least one check', () => {
    const missing = SECTIONS.filter((s) => !all.some((c) => cites(c, s))).map((s) => s.join(' '));
    expect(missing).to.deep.equal([]);
  });

  it('exercises every listed section: a citing check passes and sends something beyond the key exchange', async () => {
    const citing = all.filter((c) => SECTIONS.some((s) => cites(c, s)));
    const serverOnes = citing.filter((c) => c.role === 'server');
    const clientOnly = SECTIONS.filter((s) => !serverOnes.some((c) => cites(c, s)));
    const clientOnes = expandClientChecks(citing.filter((c) => c.role === 'client' && clientOnly.some((s) => cites(c, s))), ['openssh-client']);
    const { running, info } = await startTarget('self');
    let results: CheckResult[];
    try {
      results = await runChecks([...serverOnes, ...clientOnes], { target: info, seed: 'de9742c0ffee0021', known: knownFor('self', info.version) });
    } finally {
      await running.stop();
    }
    const byId = new Map(results.map((r) => [r.id, r]));
    const unexercised = SECTIONS.filter((s) => {
      const rs = [...serverOnes, ...clientOnes].filter((c) => cites(c, s)).map((c) => byId.get(c.client ? `${c.id}` : c.id)!);
      return !rs.some((r) => r.verdict === 'pass' && exercised(r));
    }).map((s) => s.join(' '));
    expect(unexercised).to.deep.equal([]);
  });
});
