/**
 * User authentication messages (RFC 4252, RFC 4256). 50–59 are fixed; 60–79 depend on the method in
 * progress, so those codecs are chosen by a decode context `{ auth }`.
 */
import { defineMessage, type ValueOf } from './define-message.js';
import { ascii, boolean, list, nameList, rest, string, utf8, when } from './fields.js';

/** Methods whose 60–79 messages we know. */
export type AuthMethodContext = 'publickey' | 'password' | 'keyboard-interactive';

/** RFC 4252 §5: the method-specific fields follow `method name`; an unknown method keeps them as bytes. */
export const UserauthRequest = defineMessage({
  id: 50, name: 'SSH_MSG_USERAUTH_REQUEST', spec: 'RFC 4252 §5',
  fields: { user: utf8, service: ascii, method: ascii },
  variants: {
    on: 'method',
    cases: {
      none: {}, // RFC 4252 §5.2
      // RFC 4252 §8: TRUE → the old password, then the new one
      password: { changePassword: boolean, password: utf8, newPassword: when('changePassword', utf8) },
      // RFC 4252 §7: FALSE asks whether the key is acceptable; TRUE carries the signature
      publickey: { hasSignature: boolean, algorithm: ascii, key: string, signature: when('hasSignature', string) },
      // RFC 4256 §3.1: language tag (deprecated) and submethods hint
      'keyboard-interactive': { language: ascii, submethods: utf8 },
      // RFC 4252 §9
      hostbased: { algorithm: ascii, key: string, clientHost: ascii, clientUser: utf8, signature: string },
    },
    otherwise: { methodData: rest },
  },
});

export const UserauthFailure = defineMessage({
  id: 51, name: 'SSH_MSG_USERAUTH_FAILURE', spec: 'RFC 4252 §5.1',
  fields: { methods: nameList, partialSuccess: boolean },
});

export const UserauthSuccess = defineMessage({
  id: 52, name: 'SSH_MSG_USERAUTH_SUCCESS', spec: 'RFC 4252 §5.1',
  fields: {},
});

export const UserauthBanner = defineMessage({
  id: 53, name: 'SSH_MSG_USERAUTH_BANNER', spec: 'RFC 4252 §5.4',
  fields: { message: utf8, language: ascii },
});

// 'publickey' context
export const UserauthPkOk = defineMessage({
  id: 60, name: 'SSH_MSG_USERAUTH_PK_OK', spec: 'RFC 4252 §7',
  fields: { algorithm: ascii, key: string },
});

// 'password' context
export const UserauthPasswdChangeReq = defineMessage({
  id: 60, name: 'SSH_MSG_USERAUTH_PASSWD_CHANGEREQ', spec: 'RFC 4252 §8',
  fields: { prompt: utf8, language: ascii },
});

// 'keyboard-interactive' context. The prompt/response counts are bounded: OpenSSH's server gives up past
// 100 responses and its client past 256 prompts; a count past the bytes left fails before allocating.
export const UserauthInfoRequest = defineMessage({
  id: 60, name: 'SSH_MSG_USERAUTH_INFO_REQUEST', spec: 'RFC 4256 §3.2',
  fields: { name: utf8, instruction: utf8, language: ascii, prompts: list({ prompt: utf8, echo: boolean }, { max: 256 }) },
});

export const UserauthInfoResponse = defineMessage({
  id: 61, name: 'SSH_MSG_USERAUTH_INFO_RESPONSE', spec: 'RFC 4256 §3.4',
  fields: { responses: list(utf8, { max: 256 }) },
});

export const userauthCodecs = [UserauthRequest, UserauthFailure, UserauthSuccess, UserauthBanner] as const;

export const authMethodCodecs = {
  publickey: [UserauthPkOk],
  password: [UserauthPasswdChangeReq],
  'keyboard-interactive': [UserauthInfoRequest, UserauthInfoResponse],
} as const;

// The value types fall out of the schemas.
export type UserauthRequest = ValueOf<typeof UserauthRequest>;
export type UserauthFailure = ValueOf<typeof UserauthFailure>;
export type UserauthSuccess = ValueOf<typeof UserauthSuccess>;
export type UserauthBanner = ValueOf<typeof UserauthBanner>;
export type UserauthPkOk = ValueOf<typeof UserauthPkOk>;
export type UserauthPasswdChangeReq = ValueOf<typeof UserauthPasswdChangeReq>;
export type UserauthInfoRequest = ValueOf<typeof UserauthInfoRequest>;
export type UserauthInfoResponse = ValueOf<typeof UserauthInfoResponse>;
