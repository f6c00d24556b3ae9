/** Peers for the harness: server targets, client peers, and the registry that names them. */
export type * from './types.js';
export { PeerError, isPeerError, type PeerErrorKind } from './errors.js';
export {
  registerTarget, registerClientPeer, getTarget, getClientPeer, targetNames, clientPeerNames, BUILTIN_PEERS,
  type TargetFactory, type ClientPeerFactory,
} from './registry.js';
export { probe, versionFromBanner, decodeKexInitPayload, PROBE_BANNER, type ProbeResult, type ServerKexInit } from './banner.js';
export { stopAll, stopRecorded, runningCount } from './cleanup.js';
export { TEST_USER, TEST_PASSWORD, testCredentials, ensureTestUser } from './test-user.js';
export { fingerprintOf, parsePublicKeyLine } from './host-keys.js';
export { freePort } from './ports.js';
export { listPeers, type PeerRow } from './peer-list.js';
