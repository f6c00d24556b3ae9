import { expect } from 'chai';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashLines, logReader } from './network-target.js';

describe("fuzz: the network target's crash-log reader", () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'crash-log-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const crash = 'dropbear[4242]: Segmentation fault (core dumped)\n';

  it('sees a crash line written after the log passed 4 MiB (logs() stops growing there)', () => {
    const path = join(dir, 'peer.log');
    const line = `${'x'.repeat(99)}\n`;
    writeFileSync(path, line.repeat(50_000)); // 5 MB of ordinary lines
    const tail = (): string => '(the last 4 MiB)';
    const next = logReader({ logs: tail, logPath: path });
    let read = 0;
    for (let chunk = next(); chunk; chunk = next()) read += chunk.length;
    expect(read).to.equal(5_000_000);
    expect(next()).to.equal('');
    appendFileSync(path, crash);
    expect(crashLines(next())).to.have.length(1);
    expect(next()).to.equal('');
  });

  it('without a log file, slices logs() by what it returned before', () => {
    let log = 'started\n';
    const next = logReader({ logs: () => log });
    expect(next()).to.equal('started\n');
    log += crash;
    expect(crashLines(next())).to.have.length(1);
    expect(next()).to.equal('');
  });
});
