// The OAuth consumer permissions Lettuce needs (CONTRACT §5), as the scopes Bitbucket's token
// response lists and as the names people tick in the consumer's settings. Bitbucket lists only the
// highest level it granted ("repository:admin", not also "repository"), so a granted scope counts
// for the ones it implies: x:admin ⊇ x:write ⊇ x.

export const REQUIRED_SCOPES = [
  { scope: 'account', permission: 'Account: Read' },
  { scope: 'team', permission: 'Workspace membership: Read' },
  { scope: 'project', permission: 'Projects: Read' },
  { scope: 'repository', permission: 'Repositories: Read' },
  { scope: 'repository:write', permission: 'Repositories: Write' },
  { scope: 'webhook', permission: 'Webhooks: Read and write' },
] as const;

export type RequiredScope = (typeof REQUIRED_SCOPES)[number]['scope'];

/** Every scope a grant's scope string (space separated) amounts to, implied ones included. */
export function grantedScopes(scopeString: string): Set<string> {
  const granted = new Set<string>();
  for (const scope of scopeString.split(/[\s,]+/).filter(Boolean)) {
    granted.add(scope);
    const [base, level] = scope.split(':');
    if (level === 'admin') granted.add(`${base}:write`);
    if (level === 'admin' || level === 'write') granted.add(base);
  }
  return granted;
}

/** The required scopes a grant lacks, in the order above; [] when complete, or when Bitbucket did not say what it granted. */
export function missingScopes(scopeString: string | null): RequiredScope[] {
  if (scopeString === null) return [];
  const granted = grantedScopes(scopeString);
  return REQUIRED_SCOPES.map((r) => r.scope).filter((scope) => !granted.has(scope));
}
