/**
 * The `ssh-harness/mocha` integration used the way a user would: one call at the top of a spec file builds a
 * describe per area and an it per check, here the smoke suite against our own server.
 */
import { conformance } from './index.js';

conformance({ target: 'self', suites: ['smoke'], title: 'ssh-harness/mocha: conformance({ target: "self", suites: ["smoke"] })', seed: '0123456789abcdef' });
