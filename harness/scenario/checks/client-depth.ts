import type { Check } from '../types.js';
export const clientDepthChecks: Check[] = [];
