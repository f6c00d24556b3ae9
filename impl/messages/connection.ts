/** Connection protocol messages, numbers 80–100 (RFC 4254). Request-specific data stays bytes here; see payloads.ts. */
import { defineMessage, type ValueOf } from './define-message.js';
import { ascii, boolean, rest, string, uint32, utf8 } from './fields.js';

export const GlobalRequest = defineMessage({
  id: 80, name: 'SSH_MSG_GLOBAL_REQUEST', spec: 'RFC 4254 §4',
  fields: { name: ascii, wantReply: boolean, data: rest },
});

export const RequestSuccess = defineMessage({
  id: 81, name: 'SSH_MSG_REQUEST_SUCCESS', spec: 'RFC 4254 §4',
  fields: { data: rest }, // response specific data, e.g. the bound port of 'tcpip-forward' (RFC 4254 §7.1)
});

export const RequestFailure = defineMessage({
  id: 82, name: 'SSH_MSG_REQUEST_FAILURE', spec: 'RFC 4254 §4',
  fields: {},
});

export const ChannelOpen = defineMessage({
  id: 90, name: 'SSH_MSG_CHANNEL_OPEN', spec: 'RFC 4254 §5.1',
  fields: { channelType: ascii, senderChannel: uint32, initialWindowSize: uint32, maximumPacketSize: uint32, data: rest },
});

export const ChannelOpenConfirmation = defineMessage({
  id: 91, name: 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION', spec: 'RFC 4254 §5.1',
  fields: { recipientChannel: uint32, senderChannel: uint32, initialWindowSize: uint32, maximumPacketSize: uint32, data: rest },
});

export const ChannelOpenFailure = defineMessage({
  id: 92, name: 'SSH_MSG_CHANNEL_OPEN_FAILURE', spec: 'RFC 4254 §5.1',
  fields: { recipientChannel: uint32, reason: uint32, description: utf8, language: ascii },
});

export const ChannelWindowAdjust = defineMessage({
  id: 93, name: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', spec: 'RFC 4254 §5.2',
  fields: { recipientChannel: uint32, bytesToAdd: uint32 },
});

/** The hot path: decode returns `data` as a view into the payload; encode copies it once. */
export const ChannelData = defineMessage({
  id: 94, name: 'SSH_MSG_CHANNEL_DATA', spec: 'RFC 4254 §5.2',
  fields: { recipientChannel: uint32, data: string },
});

export const ChannelExtendedData = defineMessage({
  id: 95, name: 'SSH_MSG_CHANNEL_EXTENDED_DATA', spec: 'RFC 4254 §5.2',
  fields: { recipientChannel: uint32, dataTypeCode: uint32, data: string }, // 1 = SSH_EXTENDED_DATA_STDERR
});

export const ChannelEof = defineMessage({
  id: 96, name: 'SSH_MSG_CHANNEL_EOF', spec: 'RFC 4254 §5.3',
  fields: { recipientChannel: uint32 },
});

export const ChannelClose = defineMessage({
  id: 97, name: 'SSH_MSG_CHANNEL_CLOSE', spec: 'RFC 4254 §5.3',
  fields: { recipientChannel: uint32 },
});

export const ChannelRequest = defineMessage({
  id: 98, name: 'SSH_MSG_CHANNEL_REQUEST', spec: 'RFC 4254 §5.4',
  fields: { recipientChannel: uint32, requestType: ascii, wantReply: boolean, data: rest },
});

export const ChannelSuccess = defineMessage({
  id: 99, name: 'SSH_MSG_CHANNEL_SUCCESS', spec: 'RFC 4254 §5.4',
  fields: { recipientChannel: uint32 },
});

export const ChannelFailure = defineMessage({
  id: 100, name: 'SSH_MSG_CHANNEL_FAILURE', spec: 'RFC 4254 §5.4',
  fields: { recipientChannel: uint32 },
});

export const connectionCodecs = [
  GlobalRequest, RequestSuccess, RequestFailure,
  ChannelOpen, ChannelOpenConfirmation, ChannelOpenFailure, ChannelWindowAdjust, ChannelData, ChannelExtendedData,
  ChannelEof, ChannelClose, ChannelRequest, ChannelSuccess, ChannelFailure,
] as const;

// The value types fall out of the schemas.
export type GlobalRequest = ValueOf<typeof GlobalRequest>;
export type RequestSuccess = ValueOf<typeof RequestSuccess>;
export type RequestFailure = ValueOf<typeof RequestFailure>;
export type ChannelOpen = ValueOf<typeof ChannelOpen>;
export type ChannelOpenConfirmation = ValueOf<typeof ChannelOpenConfirmation>;
export type ChannelOpenFailure = ValueOf<typeof ChannelOpenFailure>;
export type ChannelWindowAdjust = ValueOf<typeof ChannelWindowAdjust>;
export type ChannelData = ValueOf<typeof ChannelData>;
export type ChannelExtendedData = ValueOf<typeof ChannelExtendedData>;
export type ChannelEof = ValueOf<typeof ChannelEof>;
export type ChannelClose = ValueOf<typeof ChannelClose>;
export type ChannelRequest = ValueOf<typeof ChannelRequest>;
export type ChannelSuccess = ValueOf<typeof ChannelSuccess>;
export type ChannelFailure = ValueOf<typeof ChannelFailure>;
