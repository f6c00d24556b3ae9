import { expect } from 'chai';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { nistp256, nistp384, nistp521 } from './nist-curves.js';

describe('crypto/nist-curves', () => {
  it('group orders agree with an independent source (@noble/curves)', () => {
    expect(nistp256.order).to.equal(p256.Point.Fn.ORDER);
    expect(nistp384.order).to.equal(p384.Point.Fn.ORDER);
    expect(nistp521.order).to.equal(p521.Point.Fn.ORDER);
  });
});
