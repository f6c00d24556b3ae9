import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { runBuiltin, runShell, splitCommand } from './builtin-commands.js';

function io(input: string | Buffer = '') {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  stdin.end(input);
  return { stdin, stdout, stderr, out: () => Buffer.concat(out).toString('latin1'), err: () => Buffer.concat(err).toString() };
}

describe('harness/cli built-in commands (the command-line contract in README.md)', () => {
  it('echo, exit N (mod 256), unknown → 127', async () => {
    let s = io();
    expect(await runBuiltin('echo  a b   c', s)).to.equal(0);
    expect(s.out()).to.equal('a b c\n');
    expect(await runBuiltin('exit 3', io())).to.equal(3);
    expect(await runBuiltin('exit 300', io())).to.equal(44);
    s = io();
    expect(await runBuiltin('rm -rf /', s)).to.equal(127);
    expect(s.err()).to.match(/rm: command not found/);
    expect(splitCommand('  x\t y ')).to.deep.equal(['x', 'y']);
  });

  it('cat echoes stdin until EOF; discard counts; yes N writes exactly N bytes', async () => {
    const data = Buffer.alloc(300_000, 7);
    let s = io(data);
    expect(await runBuiltin('cat', s)).to.equal(0);
    expect(Buffer.from(s.out(), 'latin1').equals(data)).to.equal(true);
    s = io(data);
    expect(await runBuiltin('discard', s)).to.equal(0);
    expect(s.out()).to.equal('300000\n');
    s = io();
    expect(await runBuiltin('yes 100001', s)).to.equal(0);
    expect(s.out().length).to.equal(100001);
    expect(s.out().startsWith('y\ny\n')).to.equal(true);
    expect(await runBuiltin('yes -1', io())).to.equal(2);
  });

  it('a signal stops cat', async () => {
    const ac = new AbortController();
    const s = io();
    const stdin = new PassThrough(); // never ends
    const p = runBuiltin('cat', { ...s, stdin, signal: ac.signal });
    stdin.write('x');
    await new Promise((r) => setImmediate(r));
    ac.abort();
    stdin.write('y'); // wakes the reader, which sees the abort
    expect(await p).to.equal(0);
  });

  it('shell without pty: runs lines until exit N', async () => {
    const s = io('echo one\nyes 3\nexit 5\necho never\n');
    expect(await runShell(s, { pty: false })).to.equal(5);
    expect(s.out()).to.equal('one\ny\ny');
    const e = io('echo a\n');
    expect(await runShell(e, { pty: false })).to.equal(0); // EOF ends the shell with 0
  });

  it('shell with pty: prompt, echo, CR as line end, backspace, ^C, LF → CR LF', async () => {
    const s = io();
    const stdin = new PassThrough();
    const done = runShell({ ...s, stdin }, { pty: true });
    const tick = () => new Promise((r) => setTimeout(r, 5));
    for (const typed of ['echo hx\x7fi\r', 'echo no\x03', 'exit 2\r']) { stdin.write(typed); await tick(); }
    expect(await done).to.equal(2);
    expect(s.out()).to.equal('$ echo hx\b \bi\r\nhi\r\n$ echo no^C\r\n$ exit 2\r\n');
    // type-ahead is echoed as it arrives, like a terminal
    const t = io('echo a\recho b\r');
    expect(await runShell(t, { pty: true })).to.equal(0);
    expect(t.out()).to.equal('$ echo a\r\necho b\r\na\r\n$ b\r\n$ ');
  });

  it('shell with pty: ^D on an empty line is EOF', async () => {
    const s = io('echo z\r\x04');
    expect(await runShell(s, { pty: true })).to.equal(0);
    expect(s.out()).to.equal('$ echo z\r\nz\r\n$ ');
  });
});
