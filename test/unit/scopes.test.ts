// missingScopes (CONTRACT §5): Bitbucket's token response lists only the highest level it granted.
import { grantedScopes, missingScopes, REQUIRED_SCOPES } from '../../src/bitbucket/scopes';

describe('missingScopes', () => {
  it('is empty for the permissions the seed asks for, in the form Bitbucket lists them', () => {
    expect(missingScopes('account team project repository:write webhook')).toEqual([]);
    expect(missingScopes('webhook repository:admin project:write team:write account:write pullrequest:write')).toEqual([]);
  });

  it('counts a scope implied by a granted one: x:admin ⊇ x:write ⊇ x', () => {
    expect(grantedScopes('repository:admin')).toEqual(new Set(['repository:admin', 'repository:write', 'repository']));
    expect(missingScopes('account team project repository webhook')).toEqual(['repository:write']);
  });

  it('names what is missing, in the order of the consumer settings', () => {
    expect(missingScopes('account repository:write')).toEqual(['team', 'project', 'webhook']);
    expect(missingScopes('')).toEqual(REQUIRED_SCOPES.map((r) => r.scope));
  });

  it('is empty when Bitbucket did not say what it granted', () => {
    expect(missingScopes(null)).toEqual([]);
  });
});
