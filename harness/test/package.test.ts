/**
 * The library as a user installs it: `npm pack` of the ssh-harness package (impl/), installed from the tarball into
 * fresh projects. Checks what the tarball holds, what installing it pulls in, ESM import and CommonJS require,
 * `tsc --strict` (nodenext) against the shipped declarations with the newest typescript and @types/node and with
 * @types/node 20, and the README's examples compiled there and run against `ssh-harness serve`.
 * Needs the npm registry (the package's own dependencies, typescript, @types/node): under CI=true a failure to reach
 * it fails the test like any other missing peer.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);
const npmOpts = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** The budget an install of the library may pull in (the package and everything it depends on). */
const MAX_PACKAGES = 12;
const MAX_BYTES = 6 * 1024 * 1024;

async function npm(cwd: string, args: string[], timeout = 180_000): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return stdout;
}

function duBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += duBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

function project(dir: string, pkg: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, ...pkg }, null, 2));
  return dir;
}

/** The README's library examples as a user copies them: from 'ssh-harness', not from the repository's sources. */
function copyExample(name: string, to: string): void {
  const src = readFileSync(join(root, 'examples', name), 'utf8').replace(/from '\.\.\/impl\/index\.js'/g, "from 'ssh-harness'");
  expect(src, `examples/${name} imports the library by its package name`).to.include("from 'ssh-harness'");
  writeFileSync(join(to, name), src);
}

describe('the ssh-harness library package (npm pack → install → use)', function () {
  this.timeout(600_000);
  let work = '';
  let tarball = '';
  let files: string[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ssh-harness-pack-'));
    const out = await npm(root, ['pack', '-w', 'impl', '--pack-destination', work, '--json']);
    const packed = (JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[])[0]!;
    tarball = join(work, packed.filename);
    files = packed.files.map((f) => f.path);
  });
  after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  it('the tarball holds compiled JS, declarations and the native sources, and no tests or CI files', () => {
    expect(files).to.include.members(['package.json', 'dist/index.js', 'dist/testing.js', 'dist/types/index.d.ts', 'binding.gyp', 'native/build.mjs', 'native/src/addon.c']);
    const unwanted = files.filter((f) => /\.test\.|(^|\/)\.ci\/|\.mocharc|\.ts$(?<!\.d\.ts)|tsconfig|(^|\/)build-package\.mjs$/.test(f));
    expect(unwanted, 'shipped files that are not the library').to.deep.equal([]);
  });

  describe('installed into a fresh ES module project', () => {
    let app = '';
    before(async () => {
      app = project(join(work, 'esm-app'), { type: 'module' });
      await npm(app, ['install', tarball, ...npmOpts]);
    });

    it(`pulls at most ${MAX_PACKAGES} packages and ${MAX_BYTES / 1024 / 1024} MB, none of the harness's`, async () => {
      const list = (await npm(app, ['ls', '--all', '--parseable'])).trim().split('\n').slice(1); // first line: the app
      const names = list.map((p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length));
      expect(names.length, names.join(', ')).to.be.at.most(MAX_PACKAGES);
      for (const harnessDep of ['testcontainers', 'fast-check', 'commander', 'pcap-parser', 'yaml', 'ssh2', 'cli-progress', 'mocha', 'chai'])
        expect(names, `${harnessDep} is a harness dependency`).not.to.include(harnessDep);
      expect(duBytes(join(app, 'node_modules'))).to.be.at.most(MAX_BYTES);
    });

    it('import works, and the testing entry shares the classes of the main one', async () => {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `
        import * as lib from 'ssh-harness';
        import * as testing from 'ssh-harness/testing';
        const names = ['Transport', 'Client', 'SSHError', 'AuthResult', 'OpenFailure', 'parsePrivateKey', 'generateKey'];
        const missing = names.filter((n) => !(n in lib));
        if (missing.length) throw new Error('missing exports: ' + missing);
        if (Object.keys(testing).length === 0) throw new Error('empty testing entry');
        console.log(typeof lib.Transport, new lib.SSHError('USAGE', 'x') instanceof Error);
      `], { cwd: app });
      expect(stdout.trim()).to.equal('function true');
    });

    it('the native fast path was built at install (or the fallback says why)', async () => {
      const { stdout } = await run(process.execPath, ['-e', `
        const fs = require('node:fs'); const p = require('node:path');
        const addon = p.join(p.dirname(require.resolve('ssh-harness/package.json')), 'build', 'Release', 'ssh_harness_native.node');
        console.log(fs.existsSync(addon));
      `], { cwd: app });
      expect(stdout.trim(), 'gcc, make and node headers are on this machine: the install script must build the addon').to.equal('true');
    });
  });

  it('require works from a CommonJS project', async () => {
    const app = project(join(work, 'cjs-app'), { type: 'commonjs' });
    await npm(app, ['install', tarball, ...npmOpts]);
    writeFileSync(join(app, 'main.js'), `
      const { Transport, SSHError, AuthResult } = require('ssh-harness');
      const { EngineTesting } = require('ssh-harness/testing');
      console.log(typeof Transport, typeof SSHError, AuthResult.SUCCESSFUL, typeof EngineTesting);
    `);
    const { stdout } = await run(process.execPath, ['main.js'], { cwd: app });
    expect(stdout.trim()).to.equal('function function 0 function');
  });

  for (const typesNode of ['latest', '20']) {
    it(`tsc --strict (nodenext) compiles a user's program and the README examples with typescript@latest and @types/node@${typesNode}; the examples run against ssh-harness serve`, async () => {
      const app = project(join(work, `ts-app-${typesNode}`), { type: 'module' });
      await npm(app, ['install', tarball, 'typescript@latest', `@types/node@${typesNode}`, ...npmOpts]);
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'out', skipLibCheck: false, types: ['node'] },
        include: ['*.ts'],
      }));
      writeFileSync(join(app, 'use.ts'), `
        import { Transport, SSHError, AuthResult, type ServerPolicy, type PrivateKey } from 'ssh-harness';
        const policy: ServerPolicy = { allowedAuths: () => ['password'], checkAuthPassword: () => AuthResult.FAILED };
        export function make(): Transport { return new Transport(['127.0.0.1', 22]); }
        export const e: SSHError = new SSHError('USAGE', 'x');
        export type K = PrivateKey;
        void policy;
      `);
      copyExample('client-exec.ts', app);
      copyExample('server-with-policy.ts', app);
      const tsc = await run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, timeout: 180_000 }).catch((e: { stdout: string }) => e);
      expect((tsc as { stdout: string }).stdout ?? '', 'tsc output').to.equal('');

      // the server example is self-contained: it serves, and logs in to itself
      const server = await run(process.execPath, ['out/server-with-policy.js'], { cwd: app, timeout: 60_000 });
      expect(server.stdout.trim()).to.equal('0 you ran: uptime');

      // the client example against the reference server, started from the harness's own command
      const serve = await startServe();
      try {
        const env = { ...process.env, SSH_HOST: '127.0.0.1', SSH_PORT: String(serve.port), SSH_USER: 'alice', SSH_PASSWORD: 'pw' };
        const client = await run(process.execPath, ['out/client-exec.js', 'echo packed'], { cwd: app, env, timeout: 60_000 });
        expect(client.stdout).to.equal('packed\n');
      } finally {
        serve.child.kill();
      }
    });
  }
});

/** `ssh-harness serve` in a process of its own, as a user runs it; resolves once it prints its address. */
function startServe(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'ssh-harness.js'), 'serve', '--port', '0', '--user', 'alice', '--password', 'pw'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`ssh-harness serve did not start: ${out}`)); }, 30_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = /listening on [^\s:]+:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`ssh-harness serve exited ${code}: ${out}`)); });
  });
}
