import { describe, it } from 'vitest';
import { checkParity, PARITY_TEST } from './parity.js';
import { PINNED } from './releases.js';

// the older releases run in verify-older.test.ts: apart, the two files run side by side
describe(`parity with kustomize, ${PINNED}`, () => {
  it(PARITY_TEST, () => checkParity(PINNED));
});
