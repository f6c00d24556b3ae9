import { expect } from 'chai';
import type { Mealy } from './mealy.js';
import { checkProperties } from './properties.js';

const C = 'CONN_CLOSED', D = 'DISCONNECT(2)+CONN_CLOSED';

/**
 * A strict-kex handshake: s0 (peer's KEXINIT in) -KEXINIT-> s1 -KEX_ECDH_INIT-> s2 (server NEWKEYS out)
 * -NEWKEYS-> s3 (done) -KEXINIT-> s4 (re-exchange); s5 is the closed sink. `leaky` tolerates IGNORE in s2.
 */
function handshake(o: { leaky?: boolean; unknownClosed?: boolean; noRekey?: boolean } = {}): Mealy {
  const inputs = ['KEXINIT', 'KEX_ECDH_INIT', 'NEWKEYS', 'IGNORE', 'UNKNOWN'];
  return {
    inputs,
    next: [[1, 5, 5, 5, 5], [5, 2, 5, 5, 5], [5, 5, 3, o.leaky ? 2 : 5, 5], [o.noRekey ? 3 : 4, 3, 5, 3, o.unknownClosed ? 5 : 3], [5, 2, 5, 4, 4], [5, 5, 5, 5, 5]],
    out: [
      ['NO_RESP', D, D, D, D],
      [D, 'KEX_ECDH_REPLY+NEWKEYS', D, D, D],
      [D, D, 'NO_RESP', o.leaky ? 'NO_RESP' : D, D],
      [o.noRekey ? 'UNIMPLEMENTED' : 'KEXINIT', 'UNIMPLEMENTED', D, 'NO_RESP', o.unknownClosed ? C : 'UNIMPLEMENTED'],
      [D, 'KEX_ECDH_REPLY+NEWKEYS', D, 'NO_RESP', 'UNIMPLEMENTED'],
      [C, C, C, C, C],
    ],
  };
}

const byId = (m: Mealy, o: { strictKex?: boolean } = {}) => Object.fromEntries(checkProperties(m, 'connected', o).map((p) => [p.id, p]));

describe('learn: properties on models', () => {
  it('a conforming strict-kex handshake passes; what the alphabet cannot show is n/a with the reason', () => {
    const p = byId(handshake());
    expect(p['strict-kex']!.status).to.equal('pass');
    expect(p['unimplemented']!.status).to.equal('pass');
    expect(p['rekey-anytime']!.status).to.equal('pass');
    expect(p['no-connection-before-auth']!.status).to.equal('n/a');
    expect(p['failed-auth-no-advance']!.why).to.match(/no failing authentication input/);
  });

  it('IGNORE tolerated between the server\'s NEWKEYS and ours fails strict-kex with the shortest witness', () => {
    const p = byId(handshake({ leaky: true }));
    expect(p['strict-kex']!.status).to.equal('fail');
    expect(p['strict-kex']!.witness!.inputs).to.deep.equal(['KEXINIT', 'KEX_ECDH_INIT', 'IGNORE', 'NEWKEYS']);
    expect(p['strict-kex']!.witness!.outputs).to.deep.equal(['NO_RESP', 'KEX_ECDH_REPLY+NEWKEYS', 'NO_RESP', 'NO_RESP']);
    // a peer without strict kex has no such rule: n/a, but what it accepts is still shown
    const q = byId(handshake({ leaky: true }), { strictKex: false });
    expect(q['strict-kex']!.status).to.equal('n/a');
    expect(q['strict-kex']!.witness).to.not.equal(undefined);
  });

  it('closing on an unknown message fails unimplemented; refusing a re-exchange fails rekey-anytime', () => {
    const p = byId(handshake({ unknownClosed: true, noRekey: true }));
    expect(p['unimplemented']!.status).to.equal('fail');
    expect(p['unimplemented']!.witness!.inputs).to.deep.equal(['KEXINIT', 'KEX_ECDH_INIT', 'NEWKEYS', 'UNKNOWN']);
    expect(p['rekey-anytime']!.status).to.equal('fail');
  });

  it('authentication: a channel before success, and a grant after a failure, are violations', () => {
    // s0 -PW_BAD-> s1 (failed once); in s1 CHANNEL_OPEN is confirmed (it was not in s0); PW_OK -> s2 authenticated
    const inputs = ['USERAUTH_PW_OK', 'USERAUTH_PW_BAD', 'CHANNEL_OPEN'];
    const m: Mealy = {
      inputs,
      next: [[2, 1, 0], [2, 1, 1], [2, 2, 2]],
      out: [['USERAUTH_SUCCESS', 'USERAUTH_FAILURE', 'NO_RESP'], ['USERAUTH_SUCCESS', 'USERAUTH_FAILURE', 'CHANNEL_OPEN_CONFIRMATION'], ['NO_RESP', 'NO_RESP', 'CHANNEL_OPEN_CONFIRMATION']],
    };
    const p = Object.fromEntries(checkProperties(m, 'kex-done').map((r) => [r.id, r]));
    expect(p['no-connection-before-auth']!.status).to.equal('fail');
    expect(p['no-connection-before-auth']!.witness!.inputs).to.deep.equal(['USERAUTH_PW_BAD', 'CHANNEL_OPEN']);
    expect(p['failed-auth-no-advance']!.status).to.equal('fail');
    expect(p['failed-auth-no-advance']!.witness!.inputs).to.deep.equal(['USERAUTH_PW_BAD', 'CHANNEL_OPEN']);
    expect(p['strict-kex']!.status).to.equal('n/a');
  });
});
