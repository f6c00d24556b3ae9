#!/usr/bin/python3
"""paramiko SSH server for ssh-harness (target `paramiko`).

Config: JSON in $SSH_HARNESS_PEER_CONFIG: host, port (0 = any free), hostKeys (paths), user, password,
authorizedKeys (lines), authMethods, algorithms {kex, hostKey, cipher, mac, compression}.
Prints `listening on HOST:PORT` once bound; serves each connection in a thread; exec requests run the
built-in commands of peer_commands.py. Ends on SIGTERM.
"""
import json
import logging
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paramiko  # noqa: E402
from peer_commands import run_sync  # noqa: E402

cfg = json.loads(os.environ['SSH_HARNESS_PEER_CONFIG'])
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format='%(asctime)s %(name)s %(levelname)s %(message)s')
log = logging.getLogger('paramiko_server')

KEY_CLASSES = {'ssh-ed25519': paramiko.Ed25519Key, 'ecdsa-sha2-nistp256': paramiko.ECDSAKey, 'ecdsa-sha2-nistp384': paramiko.ECDSAKey,
               'ecdsa-sha2-nistp521': paramiko.ECDSAKey, 'ssh-rsa': paramiko.RSAKey}


def load_host_key(path):
    with open(path + '.pub') as f:
        kind = f.read().split()[0]
    return KEY_CLASSES[kind].from_private_key_file(path)


HOST_KEYS = [load_host_key(p) for p in cfg['hostKeys']]
AUTHORIZED = set(line.split()[1] for line in cfg.get('authorizedKeys', []) if len(line.split()) >= 2)
METHODS = cfg.get('authMethods') or ['password', 'publickey']


class Server(paramiko.ServerInterface):
    """One per connection. paramiko leaves session requests to the application: it runs one command per channel
    (RFC 4254 §6.5: only one of shell, exec, subsystem succeeds per channel) and any number of channels."""

    def __init__(self, transport):
        self.transport = transport
        self.started = set()

    def get_allowed_auths(self, username):
        return ','.join(m for m in METHODS if m in ('password', 'publickey'))

    def check_auth_password(self, username, password):
        if 'password' in METHODS and username == cfg['user'] and password == cfg['password']:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        if 'publickey' in METHODS and username == cfg['user'] and key.get_base64() in AUTHORIZED:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == 'session' else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def start(self, channel, command):
        if channel.get_id() in self.started:
            return False
        self.started.add(channel.get_id())
        threading.Thread(target=run_command, args=(self.transport, channel, command), daemon=True).start()
        return True

    def check_channel_exec_request(self, channel, command):
        return self.start(channel, command.decode('utf-8', 'replace'))

    def check_channel_shell_request(self, channel):
        return self.start(channel, 'cat')

    def check_channel_pty_request(self, *args):
        return True

    def check_channel_env_request(self, channel, name, value):
        return True


def apply_algorithms(t):
    a = cfg.get('algorithms') or {}
    opts = t.get_security_options()
    # paramiko validates every name against what it implements: unknown names raise here, visibly
    if a.get('kex'):
        opts.kex = a['kex']
    if a.get('hostKey'):
        opts.key_types = a['hostKey']
    if a.get('cipher'):
        opts.ciphers = a['cipher']
    if a.get('mac'):
        opts.digests = a['mac']
    if a.get('compression'):
        opts.compression = a['compression']


def run_command(t, chan, command):
    try:
        # paramiko answers the exec request only after check_channel_exec_request returns: do not write before
        time.sleep(0.01)
        status = run_sync(command, chan.recv, chan.sendall, chan.sendall_stderr)
        chan.send_exit_status(status)
        chan.shutdown_write()
        chan.close()
    except Exception as e:  # a channel the client closed early
        log.info('command %r ended: %r', command, e)


def serve(sock, addr):
    t = paramiko.Transport(sock)
    try:
        apply_algorithms(t)
        for k in HOST_KEYS:
            t.add_server_key(k)
        # group exchange needs moduli (Debian's OpenSSH ships /etc/ssh/moduli); without them paramiko still offers it
        if os.path.exists('/etc/ssh/moduli'):
            t.load_server_moduli('/etc/ssh/moduli')
        t.start_server(server=Server(t))
        # channels are served by the threads check_channel_*_request start; stay until the client goes. Keep
        # every accepted channel referenced: paramiko's Channel.__del__ closes a channel nobody holds
        channels = []
        while t.is_active():
            chan = t.accept(1)
            if chan is not None:
                channels.append(chan)
            channels = [c for c in channels if not c.closed]
    except Exception as e:  # one bad client must not end the server
        log.info('connection from %s ended: %r', addr, e)
    finally:
        t.close()


def main():
    # SIGTERM keeps its default action (terminate): a Python-level handler would only run once the main
    # thread leaves accept(), which it does not while connection threads exist
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((cfg.get('host', '127.0.0.1'), int(cfg.get('port', 0))))
    srv.listen(128)
    host, port = srv.getsockname()[:2]
    print('paramiko %s listening on %s:%d' % (paramiko.__version__, host, port), file=sys.stderr, flush=True)
    while True:
        sock, addr = srv.accept()
        threading.Thread(target=serve, args=(sock, addr), daemon=True).start()


if __name__ == '__main__':
    main()
