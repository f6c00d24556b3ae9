/**
 * Request-specific data the library's schemas (impl/messages/payloads.ts) do not define, because the reference
 * implementation does not offer these features, but real servers parse: OpenSSH's Unix-domain socket forwarding
 * and tunnels (OpenSSH PROTOCOL §2.3, §2.4) and RFC 4335's break. The generators lay out their data like the
 * library's own payloads, so the peer's parser gets past the framing.
 */
import { field as F, type Fields } from '../../../impl/messages/index.js';

const { ascii, uint32 } = F;

const socketPath = { socketPath: ascii } as const;

type Payloads = Readonly<Record<string, { readonly spec: string; readonly fields: Fields }>>;

export const EXTRA_GLOBAL_REQUESTS: Payloads = {
  'streamlocal-forward@openssh.com': { spec: 'OpenSSH PROTOCOL §2.4', fields: socketPath },
  'cancel-streamlocal-forward@openssh.com': { spec: 'OpenSSH PROTOCOL §2.4', fields: socketPath },
};

export const EXTRA_CHANNEL_OPENS: Payloads = {
  // socket path, then a reserved string and uint32 (OpenSSH sends "" and 0)
  'direct-streamlocal@openssh.com': { spec: 'OpenSSH PROTOCOL §2.4', fields: { ...socketPath, originatorAddress: ascii, originatorPort: uint32 } },
  'tun@openssh.com': { spec: 'OpenSSH PROTOCOL §2.3', fields: { tunnelMode: uint32, remoteUnit: uint32 } },
};

export const EXTRA_CHANNEL_REQUESTS: Payloads = {
  break: { spec: 'RFC 4335 §3', fields: { breakLength: uint32 } },
};
