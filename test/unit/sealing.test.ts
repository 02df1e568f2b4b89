import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { parseTokenKey, seal, unseal } from '../../src/oauth/sealing';
import { challengeFor, newVerifier } from '../../src/roblox/oauth';

describe('refresh tokens at rest', () => {
  const key = randomBytes(32);

  test('round-trips, and the sealed text reveals nothing of the token', () => {
    const sealed = seal(key, 'refresh-token-value', '123');
    expect(sealed).not.toContain('refresh-token-value');
    expect(unseal(key, sealed, '123')).toBe('refresh-token-value');
    expect(seal(key, 'refresh-token-value', '123')).not.toBe(sealed); // a fresh IV each time
  });

  test('does not open with another key, for another row, or after tampering', () => {
    const sealed = seal(key, 'refresh-token-value', '123');
    expect(unseal(randomBytes(32), sealed, '123')).toBeUndefined();
    expect(unseal(key, sealed, '456')).toBeUndefined();
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    expect(unseal(key, `v1.${bytes.toString('base64url')}`, '123')).toBeUndefined();
    expect(unseal(key, 'garbage', '123')).toBeUndefined();
  });

  test('keys: 64 hex characters or base64 of 32 bytes, nothing else', () => {
    expect(parseTokenKey('0f'.repeat(32))?.length).toBe(32);
    expect(parseTokenKey(randomBytes(32).toString('base64'))?.length).toBe(32);
    expect(parseTokenKey('0f'.repeat(16))).toBeUndefined();
    expect(parseTokenKey('correct horse battery staple')).toBeUndefined();
  });
});

describe('PKCE', () => {
  test('verifier of 43 unreserved characters; S256 challenge as RFC 7636 appendix B', () => {
    expect(newVerifier()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challengeFor('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
});
