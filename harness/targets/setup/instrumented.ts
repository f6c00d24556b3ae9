/**
 * Builds the instrumented servers the grey-box fuzzer drives: Dropbear 2022.83 and OpenSSH 9.2p1 from Debian's
 * own source packages (`apt-get source`, which applies Debian's patches), compiled with clang 14,
 * AddressSanitizer + UndefinedBehaviorSanitizer and SanitizerCoverage's inline edge flags, linked with our
 * coverage runtime (harness/targets/instrumented/cov-runtime.c) and a linker script that puts the flags on pages
 * of their own (cov-section.ld), so the runtime can map the harness's coverage file over them. The source list is
 * a separate deb-src file for the same mirror as the machine's apt sources, with its own lists directory: the
 * system's apt configuration is untouched.
 *
 * Idempotent: each build lands in `<cache>/<name>-<upstream version>-<hash of the recipe and the runtime>` with a
 * BUILD.json written last; a present BUILD.json means built, and nothing is fetched or compiled again.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { loadEdgeSources } from '../../fuzz/greybox/edge-sources.js';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PeerError } from '../errors.js';
import { isRoot, packageRoot, stateDir } from '../state.js';
import { installPackages, missingPackages } from './packages.js';

/** Compilers, Debian tooling and the libraries the two configure scripts need. */
export const INSTRUMENTED_PACKAGES: readonly string[] = [
  'clang-14', 'libclang-rt-14-dev', 'llvm-14', 'dpkg-dev', 'autoconf', 'automake', 'libssl-dev', 'zlib1g-dev', 'libcrypt-dev',
  'binutils', // nm (the flag-section check) and objdump (the edge → source file map): clang-14 pulls it in today, named for what we call
];

export const CC = 'clang-14';
/** -O1 keeps ASan's stacks readable and the build fast; frame pointers for cheap unwinding in reports. */
export const SANITIZE_CFLAGS = '-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fsanitize-coverage=inline-bool-flag';
/** The linker script that gives the edge flags whole pages (GNU ld; it augments the default script). */
export const COVERAGE_LINKER_SCRIPT = 'cov-section.ld';
export const SANITIZE_LDFLAGS = '-fsanitize=address,undefined';

/** Link flags of an instrumented program: the sanitizers' runtimes and the flags' page-aligned section. */
export function sanitizeLdflags(): string {
  return `${SANITIZE_LDFLAGS} -Wl,-T,${instrumentedFile(COVERAGE_LINKER_SCRIPT)}`;
}

export interface InstrumentedRecipe {
  readonly name: 'dropbear' | 'openssh';
  /** Debian source package and the version to fetch; `upstream` is what the cache directory is named by. */
  readonly sourcePackage: string;
  readonly debianVersion: string;
  readonly upstream: string;
  /** Run in the unpacked tree before configure (Debian's own preparations). */
  readonly prepare: readonly (readonly string[])[];
  readonly configure: readonly string[];
  readonly make: readonly string[];
  /** Built file → name under `<cache dir>/bin`. */
  readonly install: Readonly<Record<string, string>>;
  /** A clang -fsanitize-ignorelist file under harness/targets/instrumented (checks compiled out, each triaged). */
  readonly ignorelist?: string;
  /** A clang -fsanitize-coverage-ignorelist file there (code without edge counters: constant-time crypto). */
  readonly coverageIgnorelist?: string;
}

export const RECIPES: Readonly<Record<'dropbear' | 'openssh', InstrumentedRecipe>> = {
  dropbear: {
    name: 'dropbear', sourcePackage: 'dropbear', debianVersion: '2022.83-1+deb12u3', upstream: '2022.83',
    // debian/rules installs debian/localoptions.h before building. Then one change of ours: no re-exec per
    // connection (DROPBEAR_REEXEC, on by default since 2022.82 for a fresh ASLR layout): the forked child runs
    // svr_session directly, upstream's own fallback path and the behaviour on every platform but Linux. The
    // protocol code is the same; the exec of a 4 MB ASan binary, its sanitizer start-up and a second read of
    // seedrandom's /proc sources per connection were ~20 % of the server's CPU in a grey-box campaign (perf).
    prepare: [['cp', 'debian/localoptions.h', 'localoptions.h'],
      ['sh', '-c', 'printf \'\\n/* ssh-harness instrumented build: fork without re-exec */\\n#define DROPBEAR_REEXEC 0\\n\' >> localoptions.h']],
    // the bundled libtom (Debian links the system's libtomcrypt): the crypto code is instrumented too, and no
    // more -dev packages are needed; PAM off as in the upstream default
    configure: ['--enable-bundled-libtom', '--disable-pam'],
    make: ['PROGRAMS=dropbear dropbearkey'],
    install: { dropbear: 'dropbear', dropbearkey: 'dropbearkey' },
    ignorelist: 'dropbear-sanitize-ignore.txt',
    coverageIgnorelist: 'dropbear-coverage-ignore.txt',
  },
  openssh: {
    name: 'openssh', sourcePackage: 'openssh', debianVersion: '1:9.2p1-2+deb12u10', upstream: '9.2p1',
    // Debian's patches change configure.ac (debian/rules runs dh_autoreconf)
    prepare: [['autoreconf', '-f', '-i']],
    // Debian's paths (sysconfdir, privsep dir, pid dir, -lcrypt). Left out: PAM, Kerberos, SELinux, audit,
    // systemd, libedit (no -dev packages needed; none of them is on the pre-auth parsing path). No sandbox for
    // the pre-auth child (it stays chrooted and unprivileged): the seccomp filter kills it on syscalls the
    // sanitizer runtimes make while reporting, and under ASan select/poll fail configure's rlimit-sandbox check.
    configure: ['--sysconfdir=/etc/ssh', '--with-privsep-path=/run/sshd', '--with-privsep-user=sshd', '--with-pid-dir=/run',
      '--with-libs=-lcrypt', '--without-pam', '--with-sandbox=no', '--disable-strip'],
    make: ['sshd'],
    install: { sshd: 'sshd' },
  },
};

export interface BuildRecord {
  readonly name: string;
  readonly debianVersion: string;
  readonly cc: string;
  readonly cflags: string;
  readonly buildSeconds: number;
  readonly builtAt: string;
  readonly binaries: readonly string[];
}

/** `/var/cache/ssh-harness/instrumented` as root, else under the state directory. */
export function instrumentedCacheRoot(): string {
  return process.env['SSH_HARNESS_INSTRUMENTED'] ?? (isRoot() ? '/var/cache/ssh-harness/instrumented' : join(stateDir(), 'instrumented'));
}

export function runtimeSourcePath(): string {
  return join(packageRoot(), 'harness', 'targets', 'instrumented', 'cov-runtime.c');
}

const instrumentedFile = (f: string): string => join(packageRoot(), 'harness', 'targets', 'instrumented', f);

/** The recipe's ignorelists as [flag, file] pairs. */
function ignorelists(r: InstrumentedRecipe): [string, string][] {
  return [
    ...(r.ignorelist ? [['-fsanitize-ignorelist', instrumentedFile(r.ignorelist)] as [string, string]] : []),
    ...(r.coverageIgnorelist ? [['-fsanitize-coverage-ignorelist', instrumentedFile(r.coverageIgnorelist)] as [string, string]] : []),
  ];
}

/** CFLAGS of a recipe: the shared sanitizer flags, plus its ignorelists. */
export function recipeCflags(r: InstrumentedRecipe): string {
  return [SANITIZE_CFLAGS, ...ignorelists(r).map(([flag, file]) => `${flag}=${file}`)].join(' ');
}

/** The cache directory of a recipe: its name changes whenever the recipe, the flags, the ignorelist or the runtime do. */
export function buildDir(r: InstrumentedRecipe, root = instrumentedCacheRoot()): string {
  const h = createHash('sha256').update(JSON.stringify([r, CC, SANITIZE_CFLAGS, SANITIZE_LDFLAGS])).update(readFileSync(runtimeSourcePath()))
    .update(readFileSync(instrumentedFile(COVERAGE_LINKER_SCRIPT)));
  for (const [, file] of ignorelists(r)) h.update(readFileSync(file));
  return join(root, `${r.name}-${r.upstream}-${h.digest('hex').slice(0, 10)}`);
}

export function readBuild(r: InstrumentedRecipe): (BuildRecord & { dir: string }) | undefined {
  const dir = buildDir(r);
  try {
    return { ...(JSON.parse(readFileSync(join(dir, 'BUILD.json'), 'utf8')) as BuildRecord), dir };
  } catch {
    return undefined;
  }
}

/** The installed binary of a built recipe, or undefined. */
export function instrumentedBinary(name: 'dropbear' | 'openssh', binary: string): string | undefined {
  const b = readBuild(RECIPES[name]);
  const p = b && join(b.dir, 'bin', binary);
  return p && existsSync(p) ? p : undefined;
}

function run(cmd: string, args: readonly string[], cwd: string, logPath: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    writeFileSync(logPath, `\n$ ${cmd} ${args.join(' ')}\n`, { flag: 'a' });
    const child = spawn(cmd, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d: Buffer): void => { writeFileSync(logPath, d, { flag: 'a' }); tail = (tail + d.toString()).slice(-4000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(new PeerError('setup-failed', `${cmd}: ${e.message}`)); });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new PeerError('setup-failed', `${cmd} ${args.slice(0, 4).join(' ')} failed (${sig ?? `exit ${code}`}) in ${cwd}; see ${logPath}`, tail));
    });
  });
}

/** The machine's deb mirrors (sources.list one-line and deb822 forms) as deb-src stanzas. */
export function debSrcSources(): string {
  const uris = new Map<string, Set<string>>();
  const add = (uri: string, suites: string[]): void => {
    const s = uris.get(uri) ?? new Set<string>();
    for (const x of suites) s.add(x);
    uris.set(uri, s);
  };
  const files = ['/etc/apt/sources.list', ...(() => { try { return readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)); } catch { return []; } })()];
  for (const f of files) {
    if (!/\.(list|sources)$/.test(f)) continue;
    let text = '';
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    if (f.endsWith('.list')) {
      for (const l of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(l);
        if (m) add(m[1]!, [m[2]!]);
      }
    } else {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string): string | undefined => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim();
        if (!/\bdeb\b/.test(field('Types') ?? '') || /^no$/i.test(field('Enabled') ?? '')) continue;
        for (const uri of (field('URIs') ?? '').split(/\s+/).filter(Boolean)) add(uri, (field('Suites') ?? '').split(/\s+/).filter(Boolean));
      }
    }
  }
  if (uris.size === 0) throw new PeerError('setup-failed', 'no deb line in /etc/apt/sources.list(.d): cannot derive a deb-src source for apt-get source');
  return [...uris].map(([uri, suites]) => `Types: deb-src\nURIs: ${uri}\nSuites: ${[...suites].join(' ')}\nComponents: main\n`).join('\n');
}

/** apt-get options that use only our own source list and lists directory. */
function aptOptions(work: string): string[] {
  return ['-o', `Dir::Etc::SourceList=${join(work, 'sources.list')}`, '-o', `Dir::Etc::SourceParts=${join(work, 'sources.list.d')}`,
    '-o', `Dir::State::Lists=${join(work, 'lists')}`, '-o', 'APT::Sandbox::User=root', '-o', 'Acquire::Retries=3'];
}

/** Exact Debian versions of `pkg` the deb-src index lists (newest first, as apt-cache prints them). */
async function sourceVersions(work: string, pkg: string, log: string): Promise<string[]> {
  const out = join(work, `showsrc-${pkg}.txt`);
  await run('sh', ['-c', `apt-cache "$@" showsrc ${pkg} > ${out}`, 'sh', ...aptOptions(work)], work, log, 60_000);
  return [...readFileSync(out, 'utf8').matchAll(/^Version:\s*(\S+)/gm)].map((m) => m[1]!);
}

function chooseVersion(r: InstrumentedRecipe, listed: readonly string[]): string {
  if (listed.includes(r.debianVersion)) return r.debianVersion;
  // the security archive keeps only its newest upload: take the newest one of the same upstream release
  const same = listed.filter((v) => v.replace(/^\d+:/, '').startsWith(`${r.upstream}-`)).sort().reverse();
  if (!same.length) throw new PeerError('setup-failed', `${r.sourcePackage} ${r.upstream}: the mirror lists only ${listed.join(', ') || 'nothing'}`);
  return same[0]!;
}

export interface EnsureResult { readonly name: string; readonly built: boolean; readonly seconds: number; readonly dir: string; readonly debianVersion: string }

/** Builds one recipe unless its cache directory is complete. */
export async function ensureInstrumented(r: InstrumentedRecipe, progress: (l: string) => void = () => undefined): Promise<EnsureResult> {
  const have = readBuild(r);
  if (have) return { name: r.name, built: false, seconds: have.buildSeconds, dir: have.dir, debianVersion: have.debianVersion };
  if (!isRoot()) throw new PeerError('not-root', `building the instrumented ${r.name} needs root (apt-get); run \`sudo npx ssh-harness peers setup --instrumented\``);
  const t0 = Date.now();
  const dir = buildDir(r);
  const work = `${dir}.work`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'sources.list.d'), { recursive: true });
  mkdirSync(join(work, 'lists', 'partial'), { recursive: true });
  writeFileSync(join(work, 'sources.list'), '');
  writeFileSync(join(work, 'sources.list.d', 'ssh-harness-src.sources'), debSrcSources());
  const log = join(work, 'build.log');
  progress(`${r.name}: apt-get source (log ${log})`);
  await run('apt-get', [...aptOptions(work), 'update', '-q'], work, log, 300_000);
  const version = chooseVersion(r, await sourceVersions(work, r.sourcePackage, log));
  const src = join(work, 'src');
  mkdirSync(src);
  await run('apt-get', [...aptOptions(work), 'source', '-q', `${r.sourcePackage}=${version}`], src, log, 600_000);
  const tree = readdirSync(src).map((f) => join(src, f)).find((p) => existsSync(join(p, 'debian', 'changelog')));
  if (!tree) throw new PeerError('setup-failed', `apt-get source ${r.sourcePackage}=${version} left no unpacked tree in ${src}; see ${log}`);
  progress(`${r.name} ${version}: runtime, configure, make with ${CC} + ASan/UBSan/SanitizerCoverage`);
  const runtimeObj = join(work, 'cov-runtime.o');
  // the runtime itself is not instrumented (it would trace its own calls)
  await run(CC, ['-O2', '-fPIC', '-c', runtimeSourcePath(), '-o', runtimeObj], work, log, 120_000);
  for (const cmd of r.prepare) await run(cmd[0]!, cmd.slice(1), tree, log, 300_000);
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' }; // configure's test programs must not fail on leaks
  await run('./configure', [`CC=${CC}`, `CFLAGS=${recipeCflags(r)}`, `LDFLAGS=${sanitizeLdflags()}`, `LIBS=${runtimeObj}`, ...r.configure], tree, log, 1_200_000, env);
  await run('make', [`-j${Math.max(1, cpus().length)}`, ...r.make], tree, log, 2_400_000, env);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [from, to] of Object.entries(r.install)) {
    await checkCoverageSection(join(tree, from), work, log);
    copyFileSync(join(tree, from), join(bin, to));
    chmodSync(join(bin, to), 0o755);
    // the edge → source file map reports use, cached beside the binary now rather than at the first report
    await loadEdgeSources(join(bin, to));
  }
  copyFileSync(log, join(dir, 'build.log'));
  const rec: BuildRecord = {
    name: r.name, debianVersion: version, cc: CC, cflags: recipeCflags(r), buildSeconds: Math.round((Date.now() - t0) / 1000),
    builtAt: new Date().toISOString(), binaries: Object.values(r.install),
  };
  writeFileSync(join(dir, 'BUILD.json'), JSON.stringify(rec, null, 2) + '\n'); // last: its presence means complete
  rmSync(work, { recursive: true, force: true });
  pruneSupersededBuilds(r);
  return { name: r.name, built: true, seconds: rec.buildSeconds, dir, debianVersion: version };
}

/**
 * Removes the complete builds of the same recipe that a change of recipe, flags or runtime superseded (each is
 * 5-30 MB; nothing reads them once the hash moved on). Directories without BUILD.json are left alone: one may be
 * a build in progress.
 */
export function pruneSupersededBuilds(r: InstrumentedRecipe, root = instrumentedCacheRoot()): string[] {
  const keep = buildDir(r, root);
  const prefix = `${r.name}-${r.upstream}-`;
  const removed: string[] = [];
  let names: string[];
  try { names = readdirSync(root); } catch { return removed; }
  for (const n of names) {
    const d = join(root, n);
    if (!n.startsWith(prefix) || n.endsWith('.work') || d === keep || !existsSync(join(d, 'BUILD.json'))) continue;
    rmSync(d, { recursive: true, force: true });
    removed.push(d);
  }
  return removed;
}

/**
 * Fails the build unless the binary's edge flags sit on whole pages of their own: otherwise the runtime would
 * refuse to map the coverage file and every campaign against it would be blind.
 */
async function checkCoverageSection(binary: string, work: string, log: string): Promise<void> {
  const out = join(work, 'sancov-symbols.txt');
  await run('sh', ['-c', 'nm "$1" > "$2"', 'sh', binary, out], work, log, 60_000);
  const err = coverageSectionProblem(readFileSync(out, 'utf8'));
  if (err) throw new PeerError('setup-failed', `${binary}: ${err}; see ${log}`);
}

/** What is wrong with the edge-flag section, from `nm` output (undefined: nothing). */
export function coverageSectionProblem(nmOutput: string): string | undefined {
  const addr = (sym: string): bigint | undefined => {
    const m = new RegExp(`^([0-9a-f]+) \\w ${sym}$`, 'm').exec(nmOutput);
    return m ? BigInt(`0x${m[1]}`) : undefined;
  };
  const start = addr('__start___sancov_bools');
  const stop = addr('__stop___sancov_bools');
  if (start === undefined || stop === undefined) return 'no __sancov_bools section (built without -fsanitize-coverage=inline-bool-flag?)';
  if (start % 4096n !== 0n || stop % 4096n !== 0n) return `the edge flags are not page-aligned (${start.toString(16)}..${stop.toString(16)}): was ${COVERAGE_LINKER_SCRIPT} linked?`;
  if (stop <= start) return 'the edge-flag section is empty';
  return undefined;
}

/** The `peers setup` step: packages, then both builds (one after the other: each make uses every core). */
export async function ensureInstrumentedServers(progress: (l: string) => void = () => undefined): Promise<{ changed: boolean; detail: string }> {
  const missing = await missingPackages(INSTRUMENTED_PACKAGES);
  if (missing.length) {
    progress(`        installing ${missing.join(' ')}`);
    await installPackages(missing);
  }
  const parts: string[] = [];
  let changed = missing.length > 0;
  for (const r of Object.values(RECIPES)) {
    const res = await ensureInstrumented(r, (l) => progress(`        ${l}`));
    changed ||= res.built;
    parts.push(`${r.name} ${res.debianVersion} ${res.built ? `built in ${res.seconds} s` : `present (built in ${res.seconds} s)`}`);
  }
  return { changed, detail: parts.join('; ') };
}
