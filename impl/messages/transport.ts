/** Transport layer generic messages, numbers 1–29 (RFC 4253, RFC 8308). */
import { defineMessage, type ValueOf } from './define-message.js';
import { ascii, boolean, bytes, list, nameList, string, uint32, utf8 } from './fields.js';

export const Disconnect = defineMessage({
  id: 1, name: 'SSH_MSG_DISCONNECT', spec: 'RFC 4253 §11.1',
  fields: { reason: uint32, description: utf8, language: ascii },
});

export const Ignore = defineMessage({
  id: 2, name: 'SSH_MSG_IGNORE', spec: 'RFC 4253 §11.2',
  fields: { data: string },
});

export const Unimplemented = defineMessage({
  id: 3, name: 'SSH_MSG_UNIMPLEMENTED', spec: 'RFC 4253 §11.4',
  fields: { seq: uint32 }, // packet sequence number of the rejected message
});

export const Debug = defineMessage({
  id: 4, name: 'SSH_MSG_DEBUG', spec: 'RFC 4253 §11.3',
  fields: { alwaysDisplay: boolean, message: utf8, language: ascii },
});

export const ServiceRequest = defineMessage({
  id: 5, name: 'SSH_MSG_SERVICE_REQUEST', spec: 'RFC 4253 §10',
  fields: { service: ascii },
});

export const ServiceAccept = defineMessage({
  id: 6, name: 'SSH_MSG_SERVICE_ACCEPT', spec: 'RFC 4253 §10',
  fields: { service: ascii },
});

/**
 * RFC 8308 §2.3: uint32 nr-extensions, then name/value pairs. OpenSSH refuses more than 1024 extensions;
 * we accept as many (a count past the bytes left fails before any allocation).
 */
export const ExtInfo = defineMessage({
  id: 7, name: 'SSH_MSG_EXT_INFO', spec: 'RFC 8308 §2.3',
  fields: { extensions: list({ name: ascii, value: string }, { max: 1024 }) },
});

export const NewCompress = defineMessage({
  id: 8, name: 'SSH_MSG_NEWCOMPRESS', spec: 'RFC 8308 §3.2',
  fields: {},
});

export const KexInit = defineMessage({
  id: 20, name: 'SSH_MSG_KEXINIT', spec: 'RFC 4253 §7.1',
  fields: {
    cookie: bytes(16),
    kexAlgorithms: nameList, serverHostKeyAlgorithms: nameList,
    encryptionC2S: nameList, encryptionS2C: nameList,
    macC2S: nameList, macS2C: nameList,
    compressionC2S: nameList, compressionS2C: nameList,
    languagesC2S: nameList, languagesS2C: nameList,
    firstKexPacketFollows: boolean,
    reserved: uint32, // "reserved for future extension", sent as 0
  },
});

export const NewKeys = defineMessage({
  id: 21, name: 'SSH_MSG_NEWKEYS', spec: 'RFC 4253 §7.3',
  fields: {},
});

export const transportCodecs = [Disconnect, Ignore, Unimplemented, Debug, ServiceRequest, ServiceAccept, ExtInfo, NewCompress, KexInit, NewKeys] as const;

// The value types fall out of the schemas.
export type Disconnect = ValueOf<typeof Disconnect>;
export type Ignore = ValueOf<typeof Ignore>;
export type Unimplemented = ValueOf<typeof Unimplemented>;
export type Debug = ValueOf<typeof Debug>;
export type ServiceRequest = ValueOf<typeof ServiceRequest>;
export type ServiceAccept = ValueOf<typeof ServiceAccept>;
export type ExtInfo = ValueOf<typeof ExtInfo>;
export type NewCompress = ValueOf<typeof NewCompress>;
export type KexInit = ValueOf<typeof KexInit>;
export type NewKeys = ValueOf<typeof NewKeys>;
