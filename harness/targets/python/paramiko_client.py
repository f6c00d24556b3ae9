#!/usr/bin/python3
"""paramiko client for ssh-harness (client peer `paramiko-client`).

Options: JSON in $SSH_HARNESS_CLIENT_CONFIG: host, port, user, password?, identity?, algorithms?, command.
Our stdin goes to the remote command (then EOF); its stdout/stderr come out on ours; we exit with its
exit status, or 255 with a message when connecting or authenticating fails.
"""
import json
import os
import socket
import sys
import threading

import paramiko

cfg = json.loads(os.environ['SSH_HARNESS_CLIENT_CONFIG'])


def load_key(path):
    last = None
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except Exception as e:  # wrong class for this file: try the next
            last = e
    raise last


def main():
    sock = socket.create_connection((cfg['host'], int(cfg['port'])), timeout=15)
    t = paramiko.Transport(sock)
    a = cfg.get('algorithms') or {}
    opts = t.get_security_options()
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
    t.start_client(timeout=15)
    authed = False
    if cfg.get('identity'):
        try:
            t.auth_publickey(cfg['user'], load_key(cfg['identity']))
            authed = t.is_authenticated()
        except paramiko.AuthenticationException:
            pass
    if not authed and cfg.get('password') is not None:
        t.auth_password(cfg['user'], cfg['password'])
    if not t.is_authenticated():
        raise paramiko.AuthenticationException('authentication failed')
    chan = t.open_session(timeout=15)
    chan.exec_command(cfg['command'])

    def feed():
        data = sys.stdin.buffer.read()
        if data:
            chan.sendall(data)
        chan.shutdown_write()
    threading.Thread(target=feed, daemon=True).start()

    out, err = sys.stdout.buffer, sys.stderr.buffer
    while True:
        got = False
        if chan.recv_ready():
            out.write(chan.recv(32768)); got = True
        if chan.recv_stderr_ready():
            err.write(chan.recv_stderr(32768)); got = True
        if not got:
            if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                break
            if chan.closed and not chan.recv_ready():
                break
            chan.status_event.wait(0.01)
    out.flush()
    err.flush()
    status = chan.recv_exit_status()
    t.close()
    return status


if __name__ == '__main__':
    try:
        code = main()
    except Exception as e:
        print('paramiko-client: %s: %s' % (type(e).__name__, e), file=sys.stderr)
        code = 255
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit, not sys.exit: the stdin feeder is a daemon thread that may still be blocked reading our stdin, and
    # interpreter shutdown then aborts ("could not acquire lock for <stdin> ... daemon threads": SIGABRT, no status)
    os._exit(code)
