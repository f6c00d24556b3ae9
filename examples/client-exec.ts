/**
 * paramiko's SSHClient against any SSH server: host keys checked against known_hosts (hashed entries and
 * [host]:port included; unknown hosts refused), log in, run a command, stream its output, exit with its status.
 * Run: SSH_HOST=127.0.0.1 SSH_PORT=22 SSH_USER=me SSH_PASSWORD=... [SSH_KNOWN_HOSTS=file] npx tsx examples/client-exec.ts 'uname -a'
 */
import { SSHClient } from 'ssh-harness';

const client = new SSHClient();
if (process.env.SSH_KNOWN_HOSTS) client.loadHostKeys(process.env.SSH_KNOWN_HOSTS);
else client.loadSystemHostKeys();   // ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts
// the default policy, RejectPolicy, refuses a host that is in no file; AutoAddPolicy would record it

try {
  await client.connect(process.env.SSH_HOST ?? '127.0.0.1', {
    port: Number(process.env.SSH_PORT ?? 22),
    username: process.env.SSH_USER ?? 'root',
    password: process.env.SSH_PASSWORD,
    keyFilename: process.env.SSH_KEY,
  });
  const { stdin, stdout, stderr, exitStatus } = await client.execCommand(process.argv[2] ?? 'echo hello');
  stdin.end();
  stderr.pipe(process.stderr);
  for await (const chunk of stdout) process.stdout.write(chunk);
  process.exitCode = (await exitStatus()) ?? 255;
} catch (e) {
  console.error(`${(e as Error).name}: ${(e as Error).message}`);
  process.exitCode = 255;
} finally {
  await client.close();
}
