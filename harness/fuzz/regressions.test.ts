/**
 * Findings in our own implementation, fixed and kept in corpora/ as regression tests: each entry replays on a fresh
 * connection and must no longer fire its oracle.
 */
import { expect } from 'chai';
import { loadReplayInput, replay } from './replay.js';
import { resolveTarget } from './targets.js';

const FIXED = [
  // the in-process server died on an unhandled rejection: a want-reply `signal` request was answered after a
  // malformed DEBUG had ended the connection (fixed: answers to a closed connection are dropped)
  { file: 'corpora/self-tcp/e5a08552915d.json', target: 'self-tcp' },
];

describe('fuzz findings fixed in our implementation (corpora/ regressions)', function () {
  this.timeout(60_000);
  for (const f of FIXED) {
    it(`${f.file} no longer reproduces on ${f.target}`, async () => {
      const input = loadReplayInput(f.file);
      const target = await resolveTarget(f.target);
      try {
        const r = await replay(input, target);
        expect(r.reproduced, r.finding?.message).to.equal(false);
        expect(r.finding?.severity).to.not.equal('must');
      } finally {
        await target.close();
      }
    });
  }
});
