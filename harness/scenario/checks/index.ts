/** The TypeScript half of the built-in suite (the data half is scenarios/). */
import type { Check } from '../types.js';

export const checks: Check[] = [];
