/** `paramiko-client` and `asyncssh-client`: small Python clients shipped in harness/targets/python. */
import type { Availability, ClientPeer, ClientResult, ClientRunOptions } from '../types.js';
import { shippedFile } from '../state.js';
import { pythonModuleVersion, SYSTEM_PYTHON } from '../python-servers.js';
import { runClientProcess } from './run-client.js';

function pythonClient(name: string, script: string, module: string, label = module): ClientPeer {
  const run = (o: ClientRunOptions): Promise<ClientResult> => runClientProcess({
    command: SYSTEM_PYTHON, args: ['-u', shippedFile('python', script)],
    env: {
      ...process.env, PYTHONDONTWRITEBYTECODE: '1',
      SSH_HARNESS_CLIENT_CONFIG: JSON.stringify({ host: o.host, port: o.port, user: o.user, password: o.password, identity: o.identity, algorithms: o.algorithms ?? {}, command: o.command, hostKeyFingerprints: o.hostKeyFingerprints ?? [] }),
    },
    stdin: o.stdin, timeoutMs: o.timeoutMs, fix: `install python3-${module} (run \`ssh-harness peers setup\`)`,
  });
  const availability = (): Promise<Availability> => pythonModuleVersion(module);
  return { name, kind: 'client', description: `${label} client (${script})`, availability, run };
}

export const paramikoClient = pythonClient('paramiko-client', 'paramiko_client.py', 'paramiko');
export const asyncsshClient = pythonClient('asyncssh-client', 'asyncssh_client.py', 'asyncssh');
export const twistedClient = pythonClient('twisted-client', 'twisted_client.py', 'twisted', 'Twisted Conch');
