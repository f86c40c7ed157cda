import { describe, it } from 'vitest';
import { checkParity, PARITY_TEST } from './parity.js';
import { PINNED, RELEASES } from './releases.js';

// what differs between releases: parity of every mirrored release older than the pinned one
describe.each(Object.keys(RELEASES).filter((t) => t !== PINNED))('parity with kustomize, %s', (tag) => {
  it(PARITY_TEST, () => checkParity(tag));
});
