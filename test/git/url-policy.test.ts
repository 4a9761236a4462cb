import { isPublicAddress, specialAddressKind } from '../../src/git/ip-address';
import {
  assertHostAllowed, checkRepoUrl, parseRepoUrl, resolveAllowedHost, UrlPolicyError, type HostLookup, type UrlPolicyCode,
} from '../../src/git/url-policy';

const publicLookup: HostLookup = async () => ['140.82.121.4'];

/** parse + host check with a stubbed DNS answering a public address for every name. */
async function verdict(input: string, lookup: HostLookup | null = publicLookup, allowPrivateHosts = false): Promise<UrlPolicyCode | 'ok'> {
  try {
    await assertHostAllowed(parseRepoUrl(input), { allowPrivateHosts, lookup: lookup ?? undefined });
    return 'ok';
  } catch (e) {
    if (e instanceof UrlPolicyError) return e.code;
    throw e;
  }
}

describe('parseRepoUrl + assertHostAllowed: refused URLs', () => {
  const cases: Array<[string, UrlPolicyCode]> = [
    ['file:///etc/passwd', 'url_not_allowed'],
    ['ext::sh -c touch% /tmp/pwned', 'url_not_allowed'],
    ['ssh://host/x', 'url_not_allowed'],
    ['git+ssh://host/x', 'url_not_allowed'],
    ['git@github.com:a/b.git', 'url_not_allowed'],
    ['github.com:a/b.git', 'url_not_allowed'],
    ['-oProxyCommand=x', 'url_not_allowed'],
    ['--upload-pack=touch /tmp/pwned', 'url_not_allowed'],
    ['https://host.example/x--upload-pack=evil', 'url_not_allowed'],
    ['https://host.example/x%2D%2Dupload-pack=evil', 'url_not_allowed'],
    ['https://-host/x', 'url_not_allowed'],
    ['javascript:alert(1)', 'url_not_allowed'],
    ['data:text/plain,hello', 'url_not_allowed'],
    ['git://user:secret@host.example/x', 'url_not_allowed'],
    // private / local addresses (literal, odd IPv4 forms, IPv6, mapped)
    ['http://127.0.0.1/x', 'url_not_allowed'],
    ['http://127.1/x', 'url_not_allowed'],
    ['http://[::1]/x', 'url_not_allowed'],
    ['http://[::ffff:127.0.0.1]/x', 'url_not_allowed'],
    ['http://[::ffff:a9fe:a9fe]/x', 'url_not_allowed'],
    ['http://[::]/x', 'url_not_allowed'],
    ['http://[fe80::1]/x', 'url_not_allowed'],
    ['http://[fd00::1]/x', 'url_not_allowed'],
    ['http://[2002:7f00:1::]/x', 'url_not_allowed'],
    ['http://[64:ff9b::a00:1]/x', 'url_not_allowed'],
    ['http://169.254.169.254/latest', 'url_not_allowed'],
    ['http://10.0.0.1/x', 'url_not_allowed'],
    ['http://172.16.5.4/x', 'url_not_allowed'],
    ['http://192.168.1.1/x', 'url_not_allowed'],
    ['http://100.64.0.1/x', 'url_not_allowed'],
    ['http://224.0.0.1/x', 'url_not_allowed'],
    ['http://255.255.255.255/x', 'url_not_allowed'],
    ['http://2130706433/x', 'url_not_allowed'],
    ['http://0x7f000001/x', 'url_not_allowed'],
    ['http://0x7f.1/x', 'url_not_allowed'],
    ['http://017700000001/x', 'url_not_allowed'],
    ['http://0/x', 'url_not_allowed'],
    ['git://0x7f.1/x', 'url_not_allowed'],
    ['git://[::1]:9418/x', 'url_not_allowed'],
    // malformed
    ['', 'invalid_url'],
    ['   ', 'invalid_url'],
    ['https://user:pa ss@host.example/x', 'invalid_url'],
    ['https://host.example/a b', 'invalid_url'],
    ['https://host.example/a\tb', 'invalid_url'],
    ['https://host.example/a\u0000b', 'invalid_url'],
    ['https://host.example/a\\b', 'invalid_url'],
    ['https://host.example', 'invalid_url'],
    ['https://host.example/', 'invalid_url'],
    ['https://host.example/x?ref=1', 'invalid_url'],
    ['https://host.example:99999/x', 'invalid_url'],
    ['https:host.example/x', 'invalid_url'],
    ['http:/host.example/x', 'invalid_url'],
    ['not a url', 'invalid_url'],
    ['github.com/org/repo', 'invalid_url'],
    [`https://host.example/${'a'.repeat(5000)}`, 'invalid_url'],
  ];
  it.each(cases)('%j → %s', async (input, code) => {
    expect(await verdict(input)).toBe(code);
  });

  it('refuses a name that resolves to a private address, even when another address is public', async () => {
    expect(await verdict('https://evil.example/x', async () => ['10.1.2.3'])).toBe('url_not_allowed');
    expect(await verdict('https://evil.example/x', async () => ['140.82.121.4', '127.0.0.1'])).toBe('url_not_allowed');
    expect(await verdict('https://evil.example/x', async () => ['2606:4700::1', '::ffff:192.168.0.1'])).toBe('url_not_allowed');
  });

  it('refuses localhost through real DNS (the address is checked, not the name)', async () => {
    expect(await verdict('http://localhost/x', null)).toBe('url_not_allowed');
  });

  it('answers invalid_url when the host does not resolve', async () => {
    const none: HostLookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect(assertHostAllowed(parseRepoUrl('https://nope.invalid/x'), { allowPrivateHosts: false, lookup: none }))
      .rejects.toMatchObject({ code: 'invalid_url', message: expect.stringContaining('could not be resolved') });
    expect(await verdict('https://nope.invalid/x', async () => [])).toBe('invalid_url');
    expect(await verdict('https://nope.invalid/x', none, true)).toBe('invalid_url');
  });
});

describe('parseRepoUrl: allowed URLs', () => {
  it.each([
    ['https://github.com/org/repo.git', 'https://github.com/org/repo.git', 'github.com/org/repo'],
    ['https://github.com/org/repo', 'https://github.com/org/repo', 'github.com/org/repo'],
    ['  https://GitHub.com/org/repo.git/\n', 'https://github.com/org/repo.git', 'github.com/org/repo'],
    ['HTTPS://github.com:443/org/repo.git', 'https://github.com/org/repo.git', 'github.com/org/repo'],
    ['http://git.example.org:8080/a/b/c.git', 'http://git.example.org:8080/a/b/c.git', 'git.example.org:8080/a/b/c'],
    ['git://git.kernel.org/pub/scm/git/git.git', 'git://git.kernel.org/pub/scm/git/git.git', 'git.kernel.org/pub/scm/git/git'],
    ['git://git.example.org:9418/x.git', 'git://git.example.org/x.git', 'git.example.org/x'],
    ['git://git.example.org:80/x.git', 'git://git.example.org:80/x.git', 'git.example.org:80/x'],
    ['https://gitlab.com/group/sub/repo.git#readme', 'https://gitlab.com/group/sub/repo.git', 'gitlab.com/group/sub/repo'],
    ['https://bücher.example/r.git', 'https://xn--bcher-kva.example/r.git', 'xn--bcher-kva.example/r'],
  ])('%j', async (input, cloneUrl, name) => {
    const p = parseRepoUrl(input);
    expect(p.cloneUrl).toBe(cloneUrl);
    expect(p.name).toBe(name);
    expect(p.credentials).toBeNull();
    expect(await verdict(input)).toBe('ok');
  });

  it('gives the parts', () => {
    expect(parseRepoUrl('http://Git.Example.org:8080/a/b.git/')).toEqual({
      cloneUrl: 'http://git.example.org:8080/a/b.git',
      credentials: null,
      scheme: 'http',
      host: 'git.example.org',
      port: 8080,
      path: '/a/b.git',
      name: 'git.example.org:8080/a/b',
      sourceKey: 'http://git.example.org:8080/a/b',
    });
  });

  it('accepts public IP literals', async () => {
    expect(await verdict('https://140.82.121.4/org/repo.git', async () => { throw new Error('no DNS for literals'); })).toBe('ok');
    expect(await verdict('https://[2606:4700::6810:84e5]/org/repo.git', async () => { throw new Error('no DNS for literals'); })).toBe('ok');
  });

  it('returns the checked addresses (for pinning) and checkRepoUrl does both steps', async () => {
    expect(await resolveAllowedHost(parseRepoUrl('https://github.com/a/b'), { allowPrivateHosts: false, lookup: publicLookup })).toEqual(['140.82.121.4']);
    const checked = await checkRepoUrl('https://u:tok@github.com/a/b.git', { allowPrivateHosts: false, lookup: publicLookup });
    expect(checked).toMatchObject({ cloneUrl: 'https://github.com/a/b.git', credentials: { username: 'u', password: 'tok' }, addresses: ['140.82.121.4'] });
  });
});

describe('GIT_ALLOW_PRIVATE_HOSTS', () => {
  it.each([
    'http://127.0.0.1:8080/ws/repo.git',
    'http://localhost/x',
    'http://[::1]/x',
    'http://10.0.0.1/x',
    'http://169.254.169.254/latest',
    'http://2130706433/x',
  ])('%s is allowed only with allowPrivateHosts', async (input) => {
    const lookup: HostLookup = async () => ['127.0.0.1'];
    expect(await verdict(input, lookup, false)).toBe('url_not_allowed');
    expect(await verdict(input, lookup, true)).toBe('ok');
  });

  it('never relaxes the scheme or option rules', async () => {
    for (const bad of ['file:///etc/passwd', 'ext::sh -c x', '-oProxyCommand=x', 'ssh://127.0.0.1/x', 'git@127.0.0.1:x']) {
      expect(await verdict(bad, publicLookup, true)).toBe('url_not_allowed');
    }
  });
});

describe('credentials in pasted URLs', () => {
  const SECRET = 'tok3n-S3cr3t-value';

  it('splits them off and keeps them out of cloneUrl, name and sourceKey', () => {
    const p = parseRepoUrl(`https://alice:${SECRET}@bitbucket.org/acme/api.git`);
    expect(p.credentials).toEqual({ username: 'alice', password: SECRET });
    expect(p.cloneUrl).toBe('https://bitbucket.org/acme/api.git');
    for (const v of [p.cloneUrl, p.name, p.sourceKey, JSON.stringify({ ...p, credentials: null })]) {
      expect(v).not.toContain(SECRET);
      expect(v).not.toContain('alice');
    }
  });

  it('percent-decodes them', () => {
    expect(parseRepoUrl('https://al%40ice:p%3Aw%2Fd@host.example/r').credentials).toEqual({ username: 'al@ice', password: 'p:w/d' });
    expect(parseRepoUrl('https://ghp_tokenAsUser@github.com/o/r.git').credentials).toEqual({ username: 'ghp_tokenAsUser', password: '' });
  });

  it('never puts them in an error message', async () => {
    const inputs = [
      `https://alice:${SECRET}@host.example`,
      `https://alice:${SECRET}@host.example/x?q=1`,
      `https://alice:${SECRET}@-host/x`,
      `https://alice:${SECRET}@127.0.0.1/x`,
      `https://alice:${SECRET} @host.example/x`,
      `git://alice:${SECRET}@host.example/x`,
      `ssh://alice:${SECRET}@host.example/x`,
      `https://alice:${SECRET}@host.example/${'a'.repeat(3000)}`,
      `https://alice:${SECRET}%ZZ@host.example/x`,
    ];
    for (const input of inputs) {
      let err: unknown;
      try {
        await assertHostAllowed(parseRepoUrl(input), { allowPrivateHosts: false, lookup: publicLookup });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UrlPolicyError);
      expect((err as Error).message).not.toContain(SECRET);
      expect((err as Error).message).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('two pastes of the same URL (credentials aside) have the same sourceKey', () => {
    const a = parseRepoUrl('https://u:p@Host.com/a/b.git');
    const b = parseRepoUrl('https://host.com/a/b');
    expect(a.sourceKey).toBe(b.sourceKey);
    expect(a.sourceKey).toBe('https://host.com/a/b');
    expect(parseRepoUrl('https://host.com:443/a/b/').sourceKey).toBe(b.sourceKey);
    expect(parseRepoUrl('https://other:cred@HOST.COM/a/b.git/').sourceKey).toBe(b.sourceKey);
    expect(parseRepoUrl('http://host.com/a/b').sourceKey).not.toBe(b.sourceKey);
    expect(parseRepoUrl('https://host.com/a/c').sourceKey).not.toBe(b.sourceKey);
  });
});

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['0.0.0.0', 'unspecified'], ['10.1.1.1', 'private'], ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'], ['169.254.169.254', 'link-local'], ['100.127.0.1', 'shared (CGNAT)'],
    ['224.0.0.251', 'multicast'], ['240.0.0.1', 'reserved'], ['::1', 'loopback'], ['::', 'unspecified'],
    ['fe80::1', 'link-local'], ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'], ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:10.0.0.1', 'private'],
    ['2001:db8::1', 'documentation'], ['::7f00:1', 'reserved'], ['fe80::1%eth0', 'link-local'],
  ])('%s is %s', (ip, kind) => {
    expect(specialAddressKind(ip)).toBe(kind);
  });

  it.each(['8.8.8.8', '140.82.121.4', '172.32.0.1', '100.128.0.1', '2606:4700::6810:84e5', '::ffff:8.8.8.8', '2a00:1450:4001::200e'])(
    '%s is public', (ip) => {
      expect(isPublicAddress(ip)).toBe(true);
    },
  );
});
