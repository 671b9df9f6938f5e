// The one constant-time comparison behind webhook signatures, the Gerrit events token and the dashboard token.
import { describe, expect, it } from 'vitest';
import { secretEquals, sign, verifySignature } from '../../src/http/signature.ts';

describe('secretEquals', () => {
  it('accepts only the exact secret', () => {
    expect(secretEquals('s3cret', 's3cret')).toBe(true);
    for (const wrong of ['s3creT', 's3cre', 's3crett', '', null, undefined])
      expect(secretEquals('s3cret', wrong)).toBe(false);
  });

  it('checks signatures with it, trimming the header', () => {
    const body = Buffer.from('{"a":1}');
    expect(verifySignature('k', body, ` ${sign('k', body)}\n`)).toBe(true);
    expect(verifySignature('k', body, sign('other', body))).toBe(false);
    expect(verifySignature('k', body, undefined)).toBe(false);
  });
});
