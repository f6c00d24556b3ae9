#!/usr/bin/python3
"""Twisted Conch SSH server for ssh-harness (target `twisted`).

Config: JSON in $SSH_HARNESS_PEER_CONFIG (as paramiko_server.py): host, port (0 = any free), hostKeys (paths),
user, password, authorizedKeys (lines), authMethods, algorithms {kex, hostKey, cipher, mac, compression}.
Prints `listening on HOST:PORT` once bound. A session's exec (or shell: `cat`) runs the built-in commands of
peer_commands.py inside the reactor, through the process-protocol interface Conch gives a real process: nothing
is run by a shell. Ends on SIGTERM (the reactor's default handler).
"""
import json
import os
import sys
import warnings

warnings.simplefilter('ignore')  # cryptography deprecates Blowfish/CAST5, which Conch still registers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from twisted.conch import avatar  # noqa: E402
from twisted.conch.checkers import InMemorySSHKeyDB, SSHPublicKeyChecker  # noqa: E402
from twisted.conch.ssh import connection, factory, keys, session, transport, userauth  # noqa: E402
from twisted.cred import portal  # noqa: E402
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse  # noqa: E402
from twisted.internet import error, reactor  # noqa: E402
from twisted.python import components, failure, log  # noqa: E402
from zope.interface import implementer  # noqa: E402

from peer_commands import MAX_YES, parse  # noqa: E402

cfg = json.loads(os.environ['SSH_HARNESS_PEER_CONFIG'])
METHODS = cfg.get('authMethods') or ['password', 'publickey']
USER = cfg['user'].encode()


class BuiltinProcess:
    """The `ssh-harness serve` command set, driven like a child process: client data arrives through write(),
    EOF through eof(), output leaves through the SSHSessionProcessProtocol, and the end is processEnded()."""

    def __init__(self, proto, command):
        self.proto = proto
        self.steps = list(parse(command))
        self.input = b''
        self.count = 0
        self.at_eof = False
        self.done = False
        proto.makeConnection(self)
        # like a spawned process: it runs after Conch has answered the exec request (RFC 4254 §6.5 want reply)
        reactor.callLater(0, self.advance)

    # the process-transport interface Conch's session calls
    def write(self, data):
        self.input += data
        self.advance()

    def writeSequence(self, seq):
        self.write(b''.join(seq))

    def closeStdin(self):
        self.eof()

    def loseConnection(self):
        self.finish(0)

    def signalProcess(self, sig):
        self.finish(128 + 15)

    def eof(self):
        self.at_eof = True
        self.advance()

    def finish(self, status):
        if self.done:
            return
        self.done = True
        # a process's stdout and stderr close before it is reaped: Conch sends CHANNEL_EOF once both have
        self.proto.outConnectionLost()
        self.proto.errConnectionLost()
        # RFC 4254 §6.10: Conch sends exit-status for a process that ended with an exit code
        reason = error.ProcessDone(None) if status == 0 else error.ProcessTerminated(exitCode=status)
        self.proto.processEnded(failure.Failure(reason))

    def advance(self):
        while not self.done:
            if not self.steps:
                return self.finish(0)
            name, args = self.steps[0][0], self.steps[0][1:]
            if name == 'echo':
                self.proto.outReceived((' '.join(args) + '\n').encode())
            elif name == 'true':
                pass
            elif name == 'false':
                return self.finish(1)
            elif name == 'exit':
                return self.finish(int(args[0]) & 0xFF if args and args[0].lstrip('-').isdigit() else 0)
            elif name == 'yes':
                n = min(int(args[0]) if args and args[0].isdigit() else 0, MAX_YES)
                chunk = b'y\n' * 16384
                while n > 0:
                    piece = chunk[:n]
                    self.proto.outReceived(piece)
                    n -= len(piece)
            elif name in ('cat', 'discard'):
                data, self.input = self.input, b''
                self.count += len(data)
                if name == 'cat' and data:
                    self.proto.outReceived(data)
                if not self.at_eof:
                    return  # wait for more input
                if name == 'discard':
                    self.proto.outReceived(('%d\n' % self.count).encode())
            else:
                self.proto.errReceived(('%s: command not found\n' % name).encode())
                return self.finish(127)
            self.steps.pop(0)


class Avatar(avatar.ConchUser):
    def __init__(self, username):
        avatar.ConchUser.__init__(self)
        self.username = username
        self.channelLookup[b'session'] = session.SSHSession


@implementer(session.ISession)
class Session:
    def __init__(self, av):
        self.process = None

    def getPty(self, term, windowSize, modes):
        pass

    def windowChanged(self, newWindowSize):
        pass

    def execCommand(self, proto, cmd):
        # RFC 4254 §6.5: only one of shell, exec, subsystem succeeds per channel (Conch leaves it to us:
        # raising makes it answer SSH_MSG_CHANNEL_FAILURE)
        if self.process is not None:
            raise ValueError('a command already runs on this channel')
        self.process = BuiltinProcess(proto, cmd.decode('utf-8', 'replace'))

    def openShell(self, proto):
        self.execCommand(proto, b'cat')

    def eofReceived(self):
        if self.process is not None:
            self.process.eof()

    def closed(self):
        if self.process is not None:
            self.process.done = True


components.registerAdapter(Session, Avatar, session.ISession)


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        return interfaces[0], Avatar(avatarId), lambda: None


def implemented(kind):
    from twisted.conch.ssh import _kex
    from twisted.conch.ssh.transport import SSHCiphers
    return {
        'kex': lambda: set(_kex.getSupportedKeyExchanges()), 'hostKey': lambda: set(transport.SSHServerTransport.supportedPublicKeys),
        'cipher': lambda: set(SSHCiphers.cipherMap) - {b'none'}, 'mac': lambda: set(SSHCiphers.macMap) - {b'none'},
        'compression': lambda: set(transport.SSHServerTransport.supportedCompressions),
    }[kind]()


def names(kind, default):
    given = (cfg.get('algorithms') or {}).get(kind)
    if not given:
        return default
    unknown = [n for n in given if n.encode() not in implemented(kind)]
    if unknown:
        # like a real misconfiguration: refuse to start, naming what Conch does not implement
        sys.exit('twisted: %s %s not implemented by Conch' % (kind, ', '.join(unknown)))
    return [n.encode() for n in given]


class ServerTransport(transport.SSHServerTransport):
    supportedKeyExchanges = names('kex', transport.SSHServerTransport.supportedKeyExchanges)
    supportedPublicKeys = names('hostKey', transport.SSHServerTransport.supportedPublicKeys)
    supportedCiphers = names('cipher', transport.SSHServerTransport.supportedCiphers)
    supportedMACs = names('mac', transport.SSHServerTransport.supportedMACs)
    supportedCompressions = names('compression', transport.SSHServerTransport.supportedCompressions)


class Factory(factory.SSHFactory):
    protocol = ServerTransport
    services = {b'ssh-userauth': userauth.SSHUserAuthServer, b'ssh-connection': connection.SSHConnection}

    def getPrimes(self):
        # group exchange needs moduli; Debian's OpenSSH ships them (the file is absent without openssh-server)
        path = '/etc/ssh/moduli'
        if not os.path.exists(path):
            return None
        from twisted.conch.openssh_compat import primes
        return primes.parseModuliFile(path)


def main():
    log.startLogging(sys.stderr, setStdout=False)
    f = Factory()
    host_keys = {}
    for path in cfg['hostKeys']:
        k = keys.Key.fromFile(path)
        host_keys[k.sshType()] = k
    f.publicKeys = {t: k.public() for t, k in host_keys.items()}
    f.privateKeys = host_keys
    checkers = []
    if 'password' in METHODS:
        checkers.append(InMemoryUsernamePasswordDatabaseDontUse(**{cfg['user']: cfg['password'].encode()}))
    if 'publickey' in METHODS:
        authorized = [keys.Key.fromString(line.encode()) for line in cfg.get('authorizedKeys', [])]
        checkers.append(SSHPublicKeyChecker(InMemorySSHKeyDB({USER: authorized})))
    f.portal = portal.Portal(Realm(), checkers)
    port = reactor.listenTCP(int(cfg.get('port', 0)), f, interface=cfg.get('host', '127.0.0.1'))
    import twisted
    print('twisted %s listening on %s:%d' % (twisted.__version__, port.getHost().host, port.getHost().port),
          file=sys.stderr, flush=True)
    reactor.run()


if __name__ == '__main__':
    main()
