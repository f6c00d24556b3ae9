#!/usr/bin/python3
"""Twisted Conch client for ssh-harness (client peer `twisted-client`).

Options: JSON in $SSH_HARNESS_CLIENT_CONFIG: host, port, user, password?, identity?, algorithms?, command,
hostKeyFingerprints? (SHA256:..., accepted host keys; any key when absent). Our stdin (read to EOF first) goes to
the remote command, then EOF; its stdout/stderr come out on ours; we exit with its exit status, or 255 with a
message when connecting or authenticating fails.
"""
import base64
import hashlib
import json
import os
import struct
import sys
import warnings

warnings.simplefilter('ignore')  # cryptography deprecates Blowfish/CAST5, which Conch still registers

from twisted.conch.ssh import channel, common, connection, keys, transport, userauth  # noqa: E402
from twisted.internet import defer, protocol, reactor  # noqa: E402

cfg = json.loads(os.environ['SSH_HARNESS_CLIENT_CONFIG'])
STDIN = sys.stdin.buffer.read()
result = {'status': 255}


def fail(msg):
    sys.stderr.write('twisted-client: %s\n' % msg)
    if reactor.running:
        reactor.stop()


def names(kind, default, implemented):
    given = (cfg.get('algorithms') or {}).get(kind)
    if not given:
        return default
    unknown = [n for n in given if n.encode() not in implemented]
    if unknown:
        # Conch would offer them and fail only once one is negotiated: refuse, naming them
        sys.stderr.write('twisted-client: %s %s not implemented by Conch\n' % (kind, ', '.join(unknown)))
        os._exit(255)
    return [n.encode() for n in given]


def implemented_names():
    from twisted.conch.ssh import _kex
    from twisted.conch.ssh.transport import SSHCiphers
    return {
        'kex': set(_kex.getSupportedKeyExchanges()),
        'hostKey': set(transport.SSHClientTransport.supportedPublicKeys),
        'cipher': set(SSHCiphers.cipherMap) - {b'none'}, 'mac': set(SSHCiphers.macMap) - {b'none'},
        'compression': set(transport.SSHClientTransport.supportedCompressions),
    }


IMPLEMENTED = implemented_names()


class ClientTransport(transport.SSHClientTransport):
    supportedKeyExchanges = names('kex', transport.SSHClientTransport.supportedKeyExchanges, IMPLEMENTED['kex'])
    supportedPublicKeys = names('hostKey', transport.SSHClientTransport.supportedPublicKeys, IMPLEMENTED['hostKey'])
    supportedCiphers = names('cipher', transport.SSHClientTransport.supportedCiphers, IMPLEMENTED['cipher'])
    supportedMACs = names('mac', transport.SSHClientTransport.supportedMACs, IMPLEMENTED['mac'])
    supportedCompressions = names('compression', transport.SSHClientTransport.supportedCompressions, IMPLEMENTED['compression'])

    def verifyHostKey(self, hostKey, fingerprint):
        wanted = cfg.get('hostKeyFingerprints') or []
        fp = 'SHA256:' + base64.b64encode(hashlib.sha256(hostKey).digest()).decode().rstrip('=')
        if wanted and fp not in wanted:
            return defer.fail(Exception('host key %s is not one of %s' % (fp, ', '.join(wanted))))
        return defer.succeed(True)

    def connectionSecure(self):
        # Conch calls this after every NEWKEYS, re-exchanges included: ask for the service once
        if getattr(self, 'service_requested', False):
            return
        self.service_requested = True
        self.requestService(UserAuth(cfg['user'].encode(), Connection()))

    def receiveError(self, reasonCode, description):
        fail('disconnected by the server: %d %s' % (reasonCode, description.decode('latin1')))

    def connectionLost(self, reason):
        transport.SSHClientTransport.connectionLost(self, reason)
        if reactor.running:
            reactor.stop()


class UserAuth(userauth.SSHUserAuthClient):
    def __init__(self, user, instance):
        userauth.SSHUserAuthClient.__init__(self, user, instance)
        self.password_sent = False
        self.key_offered = False

    def getPassword(self, prompt=None):
        if cfg.get('password') is None or self.password_sent:
            return None
        self.password_sent = True
        return defer.succeed(cfg['password'].encode())

    def getPublicKey(self):
        if not cfg.get('identity') or self.key_offered:
            return None
        self.key_offered = True
        return keys.Key.fromFile(cfg['identity']).public()

    def getPrivateKey(self):
        return defer.succeed(keys.Key.fromFile(cfg['identity']))


class Connection(connection.SSHConnection):
    def serviceStarted(self):
        self.openChannel(ExecChannel(conn=self))


class ExecChannel(channel.SSHChannel):
    name = b'session'

    def openFailed(self, reason):
        fail('session refused: %s' % reason)

    def channelOpen(self, data):
        d = self.conn.sendRequest(self, b'exec', common.NS(cfg['command'].encode()), wantReply=True)
        d.addCallbacks(self.started, lambda f: fail('exec refused: %s' % f.getErrorMessage()))

    def started(self, _):
        if STDIN:
            self.write(STDIN)
        self.eof_when_flushed()

    def eof_when_flushed(self):
        # SSHChannel.write keeps what the window does not allow in self.buf, but sendEOF goes out at once:
        # wait until the buffer is empty, or the EOF would overtake data (RFC 4254 §5.3)
        if self.buf:
            reactor.callLater(0.01, self.eof_when_flushed)
        else:
            self.conn.sendEOF(self)

    def dataReceived(self, data):
        sys.stdout.buffer.write(data)

    def extReceived(self, dataType, data):
        sys.stderr.buffer.write(data)

    def request_exit_status(self, data):
        result['status'] = struct.unpack('>L', data[:4])[0]
        return True

    def closed(self):
        self.loseConnection()
        self.conn.transport.loseConnection()


def main():
    f = protocol.ClientFactory()
    f.protocol = ClientTransport
    f.clientConnectionFailed = lambda connector, reason: fail(reason.getErrorMessage())
    reactor.connectTCP(cfg['host'], int(cfg['port']), f, timeout=15)
    reactor.callLater(60, fail, 'no result within 60 s')
    reactor.run()


if __name__ == '__main__':
    try:
        main()
    except Exception as e:
        sys.stderr.write('twisted-client: %s: %s\n' % (type(e).__name__, e))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(result['status'])
