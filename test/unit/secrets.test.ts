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
      '/v1/integrations/bitbucket/callback?code=[redacted]&state=[redacted]&x=[redacted]',
    );
  });

  it('keeps only allow-listed query values in logged URLs, whatever the other names are', () => {
    for (const name of ['api_key', 'apikey', 'api_token', 'access_token', 'token', 'key', 'auth', 'jwt', 'private_token', 'secret', 'password', 'code', 'state', 'x', 'Q', 'qq', 'path_']) {
      expect(redactUrl(`/v1/me?${name}=lt_SECRET`)).toBe(`/v1/me?${name}=[redacted]`);
    }
    expect(redactUrl('/v1/repos/r1/search?q=needle&limit=5&api_key=S1')).toBe('/v1/repos/r1/search?q=needle&limit=5&api_key=[redacted]');
    expect(redactUrl('/v1/repos/r1/tree?path=src/a%20b')).toBe('/v1/repos/r1/tree?path=src/a%20b');
    expect(redactUrl('/repos?repo=r1&path=src/x.ts&line=7&tab=bitbucket&bitbucket=connected&bitbucket_error=invalid_state')).toBe(
      '/repos?repo=r1&path=src/x.ts&line=7&tab=bitbucket&bitbucket=connected&bitbucket_error=invalid_state',
    );
    expect(redactUrl('/v1/me')).toBe('/v1/me');
  });

  it('survives odd query strings without throwing or leaking', () => {
    const cases: Array<[string, string]> = [
      ['/a?token=S1&token=S2&q=x&q=y', '/a?token=[redacted]&token=[redacted]&q=x&q=y'], // repeated
      ['/a?lt_SECRET', '/a?[redacted]'], // no `=`: the item alone may be the secret
      ['/a?q&limit', '/a?q&limit'],
      ['/a?%71=S1&q%3D=S2&%7A%zz=S3', '/a?%71=[redacted]&q%3D=[redacted]&%7A%zz=[redacted]'], // encoded names are not decoded: never allowed
      ['/a?q=ok;token=S1', '/a?q=ok;token=[redacted]'], // `;` separates too
      ['/a?token=S1#S2', '/a?token=[redacted]#[redacted]'], // fragments go whole
      ['/a#access_token=S1', '/a#[redacted]'],
      ['/a#frag?token=S1', '/a#[redacted]'],
      ['/a?path=%E0%A4%A&token=%zz', '/a?path=%E0%A4%A&token=[redacted]'], // malformed percent-encoding
      ['/a?=S1&token=&&', '/a?=[redacted]&token=&&'], // empty name, empty value, empty items
      ['/a?', '/a?'],
      [`/a?${'n'.repeat(40)}=S1`, '/a?[redacted]=[redacted]'], // a name that long could be the secret itself
      ['http://user:S1@h/a?q=1', 'http://[redacted]@h/a?q=1'], // absolute-form request target
    ];
    for (const [url, expected] of cases) expect(redactUrl(url)).toBe(expected);
  });
});
