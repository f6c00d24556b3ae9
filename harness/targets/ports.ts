/**
 * Loopback ports for peers that cannot report the port they bound. The kernel picks a free one (bind to 0);
 * the small window until the peer binds it is closed by the caller's retry on "address in use" (see
 * startWithPortRetry). Ports handed out recently in this process are not handed out again.
 */
import net from 'node:net';

const recent: number[] = [];

function bindOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(got));
    });
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await bindOnce(host, 0);
    if (!recent.includes(port)) {
      recent.push(port);
      if (recent.length > 64) recent.shift();
      return port;
    }
  }
  throw new Error('no fresh free loopback port after 20 tries');
}

export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  try {
    await bindOnce(host, port);
    return true;
  } catch {
    return false;
  }
}

/** True when `log` shows the peer could not bind its port (sshd, dropbear and Python/Node wording). */
export function looksLikeAddressInUse(log: string): boolean {
  return /address already in use|EADDRINUSE|Errno 98/i.test(log);
}
