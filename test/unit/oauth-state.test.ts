import { createState, STATE_TTL_MS, verifyState } from '../../src/bitbucket/oauth-state';

const KEY = 'admin-token-aaaaaaaaaaaaaaaa';
const now = new Date('2026-11-28T10:00:00Z');

describe('OAuth state', () => {
  it('verifies what it signed, with account, provider and nonce', () => {
    const { state, nonce } = createState('acct-1', KEY, now);
    expect(verifyState(state, KEY, now)).toEqual({ accountId: 'acct-1', provider: 'bitbucket', issuedAt: now.getTime(), nonce });
    expect(createState('acct-1', KEY, now).nonce).not.toBe(nonce);
  });

  it('expires after 15 minutes', () => {
    const { state } = createState('acct-1', KEY, now);
    expect(verifyState(state, KEY, new Date(now.getTime() + STATE_TTL_MS - 1000))).not.toBeNull();
    expect(verifyState(state, KEY, new Date(now.getTime() + STATE_TTL_MS + 1000))).toBeNull();
  });

  it('stops working when the admin token changes, and refuses tampering', () => {
    const { state } = createState('acct-1', KEY, now);
    expect(verifyState(state, 'another-admin-token-bbbbbbbbb', now)).toBeNull();
    const [payload, sig] = state.split('.');
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), a: 'acct-2' })).toString('base64url');
    expect(verifyState(`${other}.${sig}`, KEY, now)).toBeNull();
    for (const junk of [undefined, '', '.', 'a.b.c', 'x'.repeat(5000), `${payload}.`]) expect(verifyState(junk, KEY, now)).toBeNull();
  });
});
