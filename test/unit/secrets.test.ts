import { SecretBox } from '../../src/security/secret-box';
import { newApiToken, safeEqual, sha256Hex } from '../../src/security/tokens';
import { scrubGitOutput } from '../../src/git/run-git';
import { redactUrl } from '../../src/logger';

describe('SecretBox', () => {
  const box = new SecretBox(Buffer.alloc(32, 3));

  it('round-trips and never stores the plaintext', () => {
    const sealed = box.seal('refresh-token-value');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('refresh-token-value');
    expect(box.open(sealed)).toBe('refresh-token-value');
    expect(box.seal('same')).not.toBe(box.seal('same')); // fresh IV each time
  });

  it('refuses tampered ciphertext and the wrong key', () => {
    const sealed = box.seal('x');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('y').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 4)).open(sealed)).toThrow();
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('tokens', () => {
  it('makes unique API tokens and compares in constant time', () => {
    const a = newApiToken();
    expect(a).toMatch(/^lt_[A-Za-z0-9_-]{43}$/);
    expect(newApiToken()).not.toBe(a);
    expect(sha256Hex(a)).toHaveLength(64);
    expect(safeEqual(a, a)).toBe(true);
    expect(safeEqual(a, a + 'x')).toBe(false);
    expect(safeEqual(a, newApiToken())).toBe(false);
  });
});

describe('redaction', () => {
  it('removes credentials from git output', () => {
    const text = "fatal: unable to access 'https://x-token-auth:abc123@bitbucket.org/ws/r.git/': 403; Authorization: Basic eC10b2tlbjpzZWNyZXQ=";
    const scrubbed = scrubGitOutput(text);
    expect(scrubbed).not.toContain('abc123');
    expect(scrubbed).not.toContain('eC10b2tlbjpzZWNyZXQ=');
    expect(scrubbed).toContain('https://[redacted]@bitbucket.org/ws/r.git');
  });

  it('removes OAuth codes and states from logged URLs', () => {
    expect(redactUrl('/v1/integrations/bitbucket/callback?code=SECRET1&state=SECRET2&x=1')).toBe(
      '/v1/integrations/bitbucket/callback?code=[redacted]&state=[redacted]&x=1',
    );
  });
});
