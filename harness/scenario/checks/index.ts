/** The TypeScript half of the built-in suite (the data half is scenarios/). */
import type { Check } from '../types.js';
import { authChecks } from './auth.js';
import { authDepthChecks } from './auth-depth.js';
import { clientChecks } from './client.js';
import { clientDepthChecks } from './client-depth.js';
import { connectionChecks } from './connection.js';
import { extInfoDepthChecks } from './ext-info-depth.js';
import { forwardingChecks } from './forwarding.js';
import { namingChecks } from './naming.js';
import { opensshExtChecks } from './openssh-ext.js';
import { sessionRequestChecks } from './session-requests.js';
import { transportChecks } from './transport.js';

export const checks: Check[] = [
  ...transportChecks, ...authChecks, ...connectionChecks, ...clientChecks,
  ...namingChecks, ...sessionRequestChecks, ...forwardingChecks, ...authDepthChecks, ...extInfoDepthChecks, ...clientDepthChecks,
  ...opensshExtChecks,
];
