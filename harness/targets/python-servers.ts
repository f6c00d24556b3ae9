/**
 * `paramiko` and `asyncssh`: small Python servers shipped in harness/targets/python, run with the system
 * /usr/bin/python3 (where Debian's python3-paramiko / python3-asyncssh live, whatever python is on PATH).
 * They bind port 0 themselves and print the port, so there is no port race at all.
 */
import { join } from 'node:path';
import type { Availability, RunningTarget, StartOptions, Target } from './types.js';
import { ALL_HOST_KEY_TYPES, openSshHostKeys, type OpenSshKeyType } from './host-keys.js';
import { authorizedKeyLines, testCredentials } from './test-user.js';
import { spawnPeer } from './process-peer.js';
import { shippedFile } from './state.js';
import { executable, outputOf, tempDir } from './local-tools.js';
import { PeerError, isPeerError } from './errors.js';

export const SYSTEM_PYTHON = '/usr/bin/python3';

interface PythonPeer { name: string; script: string; module: string; aptPackage: string; hostKeyTypes: readonly OpenSshKeyType[]; label?: string }

export async function pythonModuleVersion(module: string): Promise<Availability> {
  const fix = `install python3-${module} (run \`ssh-harness peers setup\`)`;
  if (!executable(SYSTEM_PYTHON)) return { available: false, reason: `${SYSTEM_PYTHON} not found; ${fix}` };
  const out = (await outputOf(SYSTEM_PYTHON, ['-W', 'ignore', '-c', `import ${module}; print("v=" + ${module}.__version__)`])).trim();
  const m = /v=(\S+)/.exec(out);
  return m ? { available: true, version: `${module} ${m[1]}` } : { available: false, reason: `${SYSTEM_PYTHON} cannot import ${module}; ${fix}` };
}

function pythonTarget(p: PythonPeer): Target {
  const start = async (opts: StartOptions = {}): Promise<RunningTarget> => {
    if (opts.extraConfig?.length) throw new PeerError('unsupported-option', `${p.name}: extraConfig is not supported`);
    if (opts.authMethods?.includes('keyboard-interactive')) throw new PeerError('unsupported-option', `${p.name}: only password and publickey auth are served`);
    if (!executable(SYSTEM_PYTHON)) throw new PeerError('missing-binary', `${p.name}: ${SYSTEM_PYTHON} not found; install ${p.aptPackage} (run \`ssh-harness peers setup\`)`);
    const credentials = await testCredentials();
    const keys = await openSshHostKeys(p.hostKeyTypes);
    const config = {
      host: '127.0.0.1', port: opts.port ?? 0, hostKeys: keys.map((k) => k.privatePath),
      user: credentials.user, password: credentials.password, authorizedKeys: await authorizedKeyLines(),
      authMethods: opts.authMethods ?? ['password', 'publickey'], algorithms: opts.algorithms ?? {},
    };
    const dir = tempDir(p.name);
    try {
      const proc = await spawnPeer({
        label: p.name, command: SYSTEM_PYTHON, args: ['-u', shippedFile('python', p.script)],
        env: { ...process.env, SSH_HARNESS_PEER_CONFIG: JSON.stringify(config), PYTHONDONTWRITEBYTECODE: '1' },
        logPath: join(dir.path, `${p.name}.log`), timeoutMs: opts.startupTimeoutMs ?? 15_000,
        readyPattern: / listening on 127\.0\.0\.1:(\d+)/, fix: `install ${p.aptPackage} (run \`ssh-harness peers setup\`)`,
      });
      const port = Number(proc.readyMatch![1]);
      const { probe } = await import('./banner.js');
      const banner = await probe('127.0.0.1', port, { timeoutMs: 5000 }).catch(() => undefined);
      let stopped: Promise<void> | undefined;
      return {
        name: p.name, host: '127.0.0.1', port, pid: proc.pid, banner: banner?.banner, version: banner?.version,
        hostKeys: keys.map((k) => k.info), credentials,
        logs: () => proc.log.toString(), logPath: proc.log.path,
        stop: () => (stopped ??= proc.stop().finally(() => dir.remove())),
      };
    } catch (e) {
      dir.remove();
      if (isPeerError(e, 'port-in-use') && opts.port !== undefined) {
        throw new PeerError('port-in-use', `port ${opts.port} is already in use; choose another port or omit it to get a free one`, e.peerLog);
      }
      throw e;
    }
  };
  return {
    name: p.name, kind: 'server', description: `${p.label ?? p.module} server (${p.script}, ${SYSTEM_PYTHON})`,
    availability: () => pythonModuleVersion(p.module), start,
  };
}

export const paramikoTarget = pythonTarget({ name: 'paramiko', script: 'paramiko_server.py', module: 'paramiko', aptPackage: 'python3-paramiko', hostKeyTypes: ALL_HOST_KEY_TYPES });
export const asyncsshTarget = pythonTarget({ name: 'asyncssh', script: 'asyncssh_server.py', module: 'asyncssh', aptPackage: 'python3-asyncssh', hostKeyTypes: ALL_HOST_KEY_TYPES });
export const twistedTarget = pythonTarget({ name: 'twisted', script: 'twisted_server.py', module: 'twisted', aptPackage: 'python3-twisted', hostKeyTypes: ALL_HOST_KEY_TYPES, label: 'Twisted Conch' });
