/** The TypeScript half of the built-in suite (the data half is scenarios/). */
import type { Check } from '../types.js';
import { authChecks } from './auth.js';
import { clientChecks } from './client.js';
import { connectionChecks } from './connection.js';
import { opensshExtChecks } from './openssh-ext.js';
import { transportChecks } from './transport.js';

export const checks: Check[] = [...transportChecks, ...authChecks, ...connectionChecks, ...clientChecks, ...opensshExtChecks];
