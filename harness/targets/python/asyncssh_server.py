#!/usr/bin/python3
"""AsyncSSH server for ssh-harness (target `asyncssh`). Same config and behaviour as paramiko_server.py."""
import asyncio
import json
import logging
import os
import signal
import sys
import warnings

warnings.simplefilter('ignore')  # asyncssh 2.10 imports ciphers that cryptography deprecates
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import asyncssh  # noqa: E402
from peer_commands import run_async  # noqa: E402

cfg = json.loads(os.environ['SSH_HARNESS_PEER_CONFIG'])
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format='%(asctime)s %(name)s %(levelname)s %(message)s')
asyncssh.set_debug_level(2)
METHODS = cfg.get('authMethods') or ['password', 'publickey']


class Server(asyncssh.SSHServer):
    def connection_made(self, conn):
        self.conn = conn

    def begin_auth(self, username):
        if cfg.get('authorizedKeys'):
            self.conn.set_authorized_keys(asyncssh.import_authorized_keys('\n'.join(cfg['authorizedKeys']) + '\n'))
        return True

    def password_auth_supported(self):
        return 'password' in METHODS

    def validate_password(self, username, password):
        return username == cfg['user'] and password == cfg['password']

    def public_key_auth_supported(self):
        return 'publickey' in METHODS

    def kbdint_auth_supported(self):
        return False


# RFC 4254 §6.10's signal names; others are not signals this server implements, so they are ignored (§6.9)
SIGNALS = {'ABRT', 'ALRM', 'FPE', 'HUP', 'ILL', 'INT', 'KILL', 'PIPE', 'QUIT', 'SEGV', 'TERM', 'USR1', 'USR2'}


async def handle(process):
    async def read(n):
        # a break or a signal (RFC 4254 §6.9) ends the command as end of input does; a window change
        # (RFC 4254 §6.7) is only news: asyncssh raises all three out of stdin reads, and an uncaught one
        # would end the whole connection
        while True:
            try:
                return await process.stdin.read(n)
            except asyncssh.BreakReceived:
                return b''
            except asyncssh.SignalReceived as e:
                if e.signal in SIGNALS:
                    return b''
            except asyncssh.TerminalSizeChanged:
                continue

    async def write(data):
        process.stdout.write(data)
        await process.stdout.drain()

    async def write_err(data):
        process.stderr.write(data)
        await process.stderr.drain()

    try:
        status = await run_async(process.command or 'cat', read, write, write_err)
    except (asyncssh.Error, OSError):
        status = 255
    process.exit(status)


async def main():
    a = cfg.get('algorithms') or {}
    kw = {}
    for ours, theirs in (('kex', 'kex_algs'), ('hostKey', 'server_host_key_algs'), ('cipher', 'encryption_algs'),
                         ('mac', 'mac_algs'), ('compression', 'compression_algs')):
        if a.get(ours):
            kw[theirs] = a[ours]
    server = await asyncssh.listen(cfg.get('host', '127.0.0.1'), int(cfg.get('port', 0)), server_factory=Server,
                                   server_host_keys=cfg['hostKeys'], process_factory=handle, encoding=None,
                                   allow_scp=False, **kw)
    host, port = server.sockets[0].getsockname()[:2]
    print('asyncssh %s listening on %s:%d' % (asyncssh.__version__, host, port), file=sys.stderr, flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


if __name__ == '__main__':
    asyncio.run(main())
