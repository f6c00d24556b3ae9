/**
 * The library as a user installs it: `npm pack` of the ssh-harness package (impl/), installed from the tarball into
 * fresh projects. Checks what the tarball holds, what installing it pulls in, ESM import and CommonJS require,
 * `tsc --strict` (nodenext) against the shipped declarations with the newest typescript and @types/node and with
 * @types/node 20, and the examples compiled there and run: the README's server, and its client against that server and against
 * `ssh-harness serve`.
 * Needs the npm registry (the package's own dependencies, typescript, @types/node): under CI=true a failure to reach
 * it fails the test like any other missing peer.
 */
import { expect } from 'chai';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
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

/** The examples the README shows: each README block is the file, less its leading doc comment. */
const README_EXAMPLES = ['client-exec.ts', 'server.ts'] as const;

function exampleBody(name: string): string {
  return readFileSync(join(root, 'examples', name), 'utf8').replace(/^\/\*\*[\s\S]*?\*\/\n/, '').replace(/\n+$/, '');
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

  it('the README shows the examples this test runs, as they are in examples/', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const name of README_EXAMPLES) {
      const m = new RegExp(`<!-- example: examples/${name.replace('.', '\\.')}[^>]*-->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(readme);
      expect(m, `README block for examples/${name}`).to.not.equal(null);
      expect(m![1], `README block for examples/${name} differs from the file`).to.equal(exampleBody(name));
    }
  });

  it('the tarball holds compiled JS, declarations and the native sources, and no tests or CI files', () => {
    expect(files).to.include.members(['package.json', 'README.md', 'dist/index.js', 'dist/testing.js', 'dist/types/index.d.ts', 'binding.gyp', 'native/build.mjs', 'native/src/addon.c']);
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
    it(`tsc --strict (nodenext) compiles a user program and the examples with typescript@latest and @types/node@${typesNode}; the README server and client run`, async () => {
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
      for (const name of readdirSync(join(root, 'examples'))) if (name.endsWith('.ts')) writeFileSync(join(app, name), readFileSync(join(root, 'examples', name)));
      const tsc = await run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, timeout: 180_000 }).catch((e: { stdout: string }) => e);
      expect((tsc as { stdout: string }).stdout ?? '', 'tsc output').to.equal('');

      // the README server, with a host key from ssh-keygen; the README client logs in to it, pinning that key
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(app, 'host_key')]);
      const hostPub = readFileSync(join(app, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      const server = await startListening(process.execPath, ['out/server.js'], { cwd: app, env: { ...process.env, PORT: '0', HOST_KEY_FILE: join(app, 'host_key') } });
      try {
        writeFileSync(join(app, 'known_hosts_example'), `[127.0.0.1]:${server.port} ${hostPub}\n`);
        const env = { ...process.env, SSH_HOST: '127.0.0.1', SSH_PORT: String(server.port), SSH_USER: 'alice', SSH_PASSWORD: 'wonderland', SSH_KNOWN_HOSTS: join(app, 'known_hosts_example') };
        const r = await run(process.execPath, ['out/client-exec.js', 'uptime'], { cwd: app, env, timeout: 60_000 });
        expect(r.stdout).to.equal('you ran: uptime\n');
      } finally {
        server.child.kill();
      }

      // the README client against the reference server, started by the harness's own command with that host key
      const serve = await startListening(process.execPath, [join(root, 'bin', 'ssh-harness.js'), 'serve', '--port', '0', '--user', 'alice', '--password', 'pw', '--host-key', join(app, 'host_key')]);
      try {
        writeFileSync(join(app, 'known_hosts_serve'), `[127.0.0.1]:${serve.port} ${hostPub}\n`);
        const env = { ...process.env, SSH_HOST: '127.0.0.1', SSH_PORT: String(serve.port), SSH_USER: 'alice', SSH_PASSWORD: 'pw', SSH_KNOWN_HOSTS: join(app, 'known_hosts_serve') };
        const r = await run(process.execPath, ['out/client-exec.js', 'echo packed'], { cwd: app, env, timeout: 60_000 });
        expect(r.stdout).to.equal('packed\n');
      } finally {
        serve.child.kill();
      }

      // the self-contained example: a server and a client in one file
      const both = await run(process.execPath, ['out/server-with-policy.js'], { cwd: app, timeout: 60_000 });
      expect(both.stdout.trim()).to.equal('0 you ran: uptime');
    });
  }
});

/** A server in a process of its own (ssh-harness serve, or the README server); resolves once it prints its address. */
function startListening(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${args.join(' ')} did not start: ${out}`)); }, 30_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = /listening on [^\s:]+:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)); });
  });
}
