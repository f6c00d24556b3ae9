/**
 * Names the generators draw from: ours (the impl registry) plus those real peers implement and we do not,
 * so negotiation can land on algorithms on either side (our algorithm catalogue, OpenSSH/Dropbear lists).
 */
import { cipherAlgorithms, compressionAlgorithms, kexAlgorithms, macAlgorithms, signatureAlgorithms } from '../../../impl/crypto/registry.js';

const uniq = (...lists: (readonly string[])[]): readonly string[] => Object.freeze([...new Set(lists.flat())]);

/**
 * Every kex name but the 4096/8192-bit finite-field groups: one of those costs 50–200 ms in-process, so they
 * are left to targeted runs (arb options) rather than drawn at random.
 */
export const KEX_NAMES = uniq([...kexAlgorithms.keys()].filter((n) => !/group1[68]/.test(n)), [
  'sntrup761x25519-sha512@openssh.com', 'sntrup761x25519-sha512', 'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group-exchange-sha1',
  'ext-info-c', 'kex-strict-c-v00@openssh.com', 'ext-info-s', 'kex-strict-s-v00@openssh.com', 'kexguess2@matt.ucc.asn.au',
]);
/** Kex methods that cost well under a millisecond here (finite-field DH and ML-KEM in JS do not). */
export const CHEAP_KEX_NAMES = Object.freeze(['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ext-info-c', 'kex-strict-c-v00@openssh.com']);
// certificate algorithms stay the two exotic names below: the list (and so every committed replay path) predates their registration
export const HOSTKEY_NAMES = uniq([...signatureAlgorithms.keys()].filter((n) => !n.endsWith('-cert-v01@openssh.com')), [
  'ssh-dss', 'ssh-ed448', 'sk-ssh-ed25519@openssh.com', 'ssh-ed25519-cert-v01@openssh.com', 'rsa-sha2-512-cert-v01@openssh.com',
]);
export const CIPHER_NAMES = uniq([...cipherAlgorithms.keys()], ['none', 'blowfish-cbc', 'arcfour', 'aes128-cbc', 'rijndael-cbc@lysator.liu.se']);
export const MAC_NAMES = uniq([...macAlgorithms.keys()], ['none', 'umac-64@openssh.com', 'umac-128-etm@openssh.com', 'hmac-ripemd160']);
export const COMPRESSION_NAMES = uniq([...compressionAlgorithms.keys()], ['none', 'zlib', 'zlib@openssh.com']);
export const LANGUAGE_NAMES = Object.freeze(['', 'en', 'en-US', 'i-default']);

export const SERVICE_NAMES = Object.freeze(['ssh-userauth', 'ssh-connection', 'ssh-agent', 'none']);
export const AUTH_METHODS = Object.freeze(['none', 'password', 'publickey', 'keyboard-interactive', 'hostbased', 'gssapi-with-mic']);
export const CHANNEL_TYPES = Object.freeze(['session', 'direct-tcpip', 'forwarded-tcpip', 'x11', 'auth-agent@openssh.com', 'direct-streamlocal@openssh.com', 'tun@openssh.com']);
export const GLOBAL_REQUESTS = Object.freeze([
  'keepalive@openssh.com', 'tcpip-forward', 'cancel-tcpip-forward', 'no-more-sessions@openssh.com', 'hostkeys-prove-00@openssh.com',
  'streamlocal-forward@openssh.com', 'cancel-streamlocal-forward@openssh.com',
]);
export const CHANNEL_REQUESTS = Object.freeze([
  'pty-req', 'x11-req', 'env', 'shell', 'exec', 'subsystem', 'window-change', 'xon-xoff', 'signal', 'exit-status', 'exit-signal',
  'eow@openssh.com', 'keepalive@openssh.com', 'auth-agent-req@openssh.com', 'break',
]);
/** Commands the built-in servers know, and ones that must be refused. */
// `ssh-add -l` talks to SSH_AUTH_SOCK: after an auth-agent-req@openssh.com the server opens an agent channel to us
export const COMMANDS = Object.freeze(['echo hi', 'cat', 'exit 3', 'true', 'discard', 'nosuchcommand', '', 'ssh-add -l']);
export const SUBSYSTEMS = Object.freeze(['sftp', 'netconf', '']);
export const SIGNALS = Object.freeze(['INT', 'TERM', 'KILL', 'HUP', 'USR1', 'BOGUS']);
