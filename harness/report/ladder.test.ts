/**
 * Ladder diagrams from evidence: row building (connections, repeats, notes, where the verdict goes, elision of
 * long logs), field summaries per message, and escaping of what peers send into the SVG.
 */
import { expect } from 'chai';
import type { CheckResult, EvidenceLine } from '../scenario/types.js';
import { fieldSummary, hexBytes } from './ladder-fields.js';
import { ladderRows, ladderSvg } from './ladder.js';

const base = { id: 'x.check', title: 't', level: 'MUST', role: 'server', area: 'kex', suites: [], spec: [{ rfc: 'RFC 4253', section: '11.1' }], source: { file: 'f', line: 1 }, durationMs: 1, attempts: 1, seed: 's' } as const;
const msg = (t: number, dir: 'c2s' | 's2c', text: string, extra: Partial<EvidenceLine> = {}): EvidenceLine => ({ t, conn: 1, dir, seq: t, text, ...extra });

describe('harness/report: packet ladder diagrams', () => {
  it('rows: connection headers, repeats collapsed with their sequence range, the verdict at its note', () => {
    const evidence: EvidenceLine[] = [
      msg(0, 'c2s', 'SSH_MSG_KEXINIT'), msg(1, 's2c', 'SSH_MSG_KEXINIT'),
      ...Array.from({ length: 5 }, (_, i) => msg(2 + i, 'c2s', 'SSH_MSG_IGNORE')),
      { t: 9, conn: 1, dir: 'note', text: 'peer closed the TCP connection without SSH_MSG_DISCONNECT' },
      { t: 9, conn: 0, dir: 'note', text: 'fail: expected SSH_MSG_DISCONNECT', verdict: 'fail' },
      { ...msg(10, 'c2s', 'SSH_MSG_KEXINIT'), conn: 2 },
    ];
    const rows = ladderRows({ evidence, verdict: 'fail', reason: 'expected SSH_MSG_DISCONNECT' });
    expect(rows.map((r) => r.kind)).to.deep.equal(['conn', 'msg', 'msg', 'msg', 'note', 'verdict', 'conn', 'msg']);
    expect(rows[3]).to.deep.include({ count: 5, lastSeq: 6 });
    expect(rows[5]).to.deep.include({ verdict: 'fail', text: 'expected SSH_MSG_DISCONNECT' });
  });

  it('rows: without a verdict note (older reports, infrastructure) the band goes last; a long log keeps its start and its end', () => {
    const evidence = Array.from({ length: 300 }, (_, i) => msg(i, i % 2 ? 's2c' : 'c2s', `SSH_MSG_CHANNEL_DATA`));
    const rows = ladderRows({ evidence, verdict: 'inconclusive', reason: 'timeout' });
    expect(rows.length).to.equal(80);
    expect(rows.at(-1)).to.deep.include({ kind: 'verdict', verdict: 'inconclusive', text: 'timeout' });
    const elided = rows.find((r) => r.kind === 'elided');
    expect(elided).to.deep.include({ messages: 300 - 23 - 54 }); // head: a connection row + 23; tail: 54 + the verdict
    const old = ladderRows({ evidence: [msg(0, 'c2s', 'A'), { t: 1, conn: 1, dir: 'note', text: 'fail: r' }, msg(2, 'c2s', 'B')], verdict: 'fail', reason: 'r' });
    expect(old.map((x) => x.kind)).to.deep.equal(['conn', 'msg', 'verdict', 'msg']);
  });

  it('field summaries: the values that matter per message; cut JSON from older reports shows as text', () => {
    expect(fieldSummary('SSH_MSG_KEXINIT', JSON.stringify({ kexAlgorithms: ['curve25519-sha256', 'ecdh-sha2-nistp256', 'ext-info-c', 'kex-strict-c-v00@openssh.com'], encryptionC2S: ['aes128-gcm@openssh.com'], firstKexPacketFollows: true }), 200))
      .to.equal('kex curve25519-sha256 +1 · cipher aes128-gcm@openssh.com · strict-kex ext-info first_kex_packet_follows');
    expect(fieldSummary('SSH_MSG_DISCONNECT', '{"reason":2,"description":"bad","language":""}')).to.equal('SSH_DISCONNECT_PROTOCOL_ERROR (2) "bad"');
    expect(fieldSummary('SSH_MSG_USERAUTH_FAILURE', '{"methods":["publickey","password"],"partialSuccess":false}')).to.equal('can continue: publickey, password');
    expect(fieldSummary('SSH_MSG_CHANNEL_DATA', '{"recipientChannel":3,"data":"6869…(+98 bytes)"}')).to.equal('channel 3 · 100 bytes');
    expect(fieldSummary('SSH_MSG_KEX_ECDH_REPLY', JSON.stringify({ hostKey: `0000000b${Buffer.from('ssh-ed25519').toString('hex')}00000020aa`, publicKey: 'aa'.repeat(32), signature: '00' })))
      .to.equal('host key ssh-ed25519 · Q_S 32 bytes · sig ?');
    expect(fieldSummary('SSH_MSG_KEXINIT', '{"kexAlgorithms":["curve2…')).to.equal('{"kexAlgorithms":["curve2…');
    expect(fieldSummary('SSH_MSG_UNKNOWN_200', '{"id":200,"body":"00ff00ff00ff00ff00ff"}')).to.equal('id=200 · body=10 bytes');
    expect(hexBytes('abcd…(+10 bytes)')).to.equal(12);
  });

  it('SVG: escapes what peers sent (markup, quotes, characters XML forbids) and marks our deviations', () => {
    const r: CheckResult = {
      ...base, verdict: 'fail', reason: 'peer said </svg><script>alert(1)</script>',
      evidence: [
        msg(0, 'c2s', 'SSH_MSG_UNKNOWN_19', { deviation: 'ping "x"' }),
        msg(1, 's2c', 'SSH_MSG_DISCONNECT', { fields: JSON.stringify({ reason: 2, description: '</text><script>x</script>\u0001', language: '' }) }),
        { t: 2, conn: 0, dir: 'note', text: 'fail: peer said </svg><script>alert(1)</script>\u0001', verdict: 'fail' },
      ],
    };
    const svg = ladderSvg(r, { peer: 'evil<peer>' });
    expect(svg).to.not.include('<script>');
    expect(svg).to.not.include('\u0001');
    expect(svg).to.include('evil&lt;peer&gt;');
    expect(svg).to.include('\\x01');
    expect(svg).to.match(/<g class="m dev"/);
    expect(svg).to.match(/<g class="verdict fail">/);
    expect(svg.match(/<svg /g)).to.have.length(1);
    expect(svg.match(/<\/svg>/g)).to.have.length(1);
  });
});
