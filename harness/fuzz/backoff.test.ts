import { expect } from 'chai';
import { backoffLine, backoffMarkdown, classifyOutcome, classifyText, ConnectionGovernor } from './backoff.js';
import type { FuzzTarget, Link } from './link.js';
import { LinkPool } from './pool.js';

const outcome = (o: Partial<Parameters<typeof classifyOutcome>[0]>): Parameters<typeof classifyOutcome>[0] =>
  ({ bytesRead: 0, firstText: '', closed: true, closedByUs: false, ageMs: 10, ...o });

describe('fuzz back-off from connection limits (classification and governor)', () => {
  it('tells refusals from served connections', () => {
    expect(classifyOutcome(outcome({}))).to.deep.include({ kind: 'closed-before-version' });
    expect(classifyOutcome(outcome({ bytesRead: 22, firstText: 'Exceeded MaxStartups\r\n' }))).to.deep.include({ kind: 'limit-text' });
    expect(classifyOutcome(outcome({ bytesRead: 40, firstText: 'SSH-2.0-dropbear_2022.83\r\n' }))).to.equal('served');
    // a banner line before the version (RFC 4253 §4.2 lets servers send one) is not a refusal
    expect(classifyOutcome(outcome({ bytesRead: 60, firstText: 'Too many cooks in here\r\nSSH-2.0-x\r\n', closed: false }))).to.equal('served');
    expect(classifyOutcome(outcome({ bytesRead: 40, firstText: 'SSH-2.0-x\r\n', closeText: 'Too many connections from your address' }))).to.deep.include({ kind: 'limit-text' });
    // OpenSSH MaxAuthTries: a limit per connection that the case itself ran into
    expect(classifyOutcome(outcome({ bytesRead: 40, firstText: 'SSH-2.0-x\r\n', closeText: 'Too many authentication failures' }))).to.equal('served');
    expect(classifyOutcome(outcome({ closed: false, ageMs: 5000 }))).to.deep.include({ kind: 'banner-timeout' });
    // we closed it ourselves, quickly: says nothing about the peer
    expect(classifyOutcome(outcome({ closedByUs: true }))).to.equal(undefined);
    expect(classifyOutcome(outcome({ closed: false, ageMs: 50 }))).to.equal(undefined);
    expect(classifyText('cannot connect: connect ECONNREFUSED 127.0.0.1:2222')).to.deep.include({ kind: 'connect-failed' });
    expect(classifyText('refused before the version exchange (no byte from the peer)')).to.deep.include({ kind: 'closed-before-version' });
    expect(classifyText('stopped at the authentication: permission denied')).to.equal(undefined);
  });

  it('backs off exponentially up to the bound, halves the parallelism, recovers it, and calls the peer unreachable only after the grace period', async () => {
    let t = 0;
    const g = new ConnectionGovernor({ parallelism: 8, baseMs: 100, maxMs: 400, graceMs: 1000, recoverAfter: 3, now: () => t });
    const refuse = (): void => g.refused({ kind: 'closed-before-version', detail: 'x' });
    refuse();
    expect(g.parallelism).to.equal(4);
    refuse(); // inside the open window: the same event
    expect(g.stats().backoffs).to.equal(1);
    t = 100; refuse(); // 200 ms
    t = 300; refuse(); // 400 ms
    t = 700; refuse(); // bounded at 400 ms
    expect(g.parallelism).to.equal(1);
    expect(g.stats()).to.deep.include({ refusals: 5, backoffs: 4, totalBackoffMs: 100 + 200 + 400 + 400 });
    expect(g.unreachableFor()).to.equal(undefined);
    t = 1100;
    expect(g.unreachableFor()).to.equal(1100);
    for (let i = 0; i < 6; i++) g.served();
    expect(g.unreachableFor()).to.equal(undefined);
    expect(g.parallelism).to.equal(3);
    const s = g.stats();
    expect(s.parallelism).to.deep.equal({ start: 8, min: 1, end: 3 });
    expect(s.changes.map((c) => `${c.from}->${c.to}`)).to.deep.equal(['8->4', '4->2', '2->1', '1->2', '2->3']);
    expect(s.longestOutageMs).to.equal(1100);
    expect(backoffLine(s)).to.match(/5 refused, 4 back-offs \(1\.1 s\), parallelism 8→3 \(min 1\)/);
    expect(backoffMarkdown(s).join('\n')).to.match(/5 connections refused \(5× closed-before-version\)/);
  });

  it('admits no more fresh connections than the parallelism, and none inside a back-off window', async () => {
    const g = new ConnectionGovernor({ parallelism: 2, baseMs: 150 });
    await g.admit(); await g.admit();
    let third = false;
    const p = g.admit().then(() => { third = true; });
    await new Promise((r) => setTimeout(r, 20));
    expect(third).to.equal(false);
    g.done();
    await p;
    expect(third).to.equal(true);
    g.done(); g.done();
    g.refused({ kind: 'connect-failed', detail: 'ECONNRESET' });
    const t0 = performance.now();
    await g.admit();
    expect(performance.now() - t0).to.be.at.least(100);
  });

  it('connections outside the pool (shrinking, confirming) go through the governor: a refused connect backs off and retries', async () => {
    class Peer {
      #refusals = 2;
      connects = 0;
      name = 'limited';
      secret(): number { return this.#refusals; } // private state: must run on the target itself, not the wrapper
      connect(): Promise<Link> {
        this.connects++;
        if (this.#refusals-- > 0) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:22'));
        return Promise.resolve({ client: {} } as Link);
      }
    }
    const peer = new Peer();
    const g = new ConnectionGovernor({ parallelism: 1, baseMs: 20, maxMs: 40, graceMs: 5_000 });
    const pool = new LinkPool(peer as unknown as FuzzTarget, 100, g);
    const aside = pool.governed();
    const t0 = performance.now();
    expect(await aside.connect()).to.deep.equal({ client: {} });
    expect(peer.connects).to.equal(3);
    expect(performance.now() - t0).to.be.at.least(20); // it waited out the back-off
    expect(g.stats().refusals).to.equal(2);
    expect(aside.name).to.equal('limited');
    expect((aside as unknown as Peer).secret()).to.equal(-1);
    // no governor (in-process targets): the target itself
    expect(new LinkPool(peer as unknown as FuzzTarget, 100).governed()).to.equal(peer);
  });
});
