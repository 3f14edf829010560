import { lowerRole, roleAtLeast, ROLES, type Role } from './roles';

describe('roles (SPEC §3: OWNER > DEVELOPER > MEMBER > VIEWER)', () => {
  const ranked: Role[] = ['VIEWER', 'MEMBER', 'DEVELOPER', 'OWNER'];
  const pairs = ranked.flatMap((a, i) => ranked.map((b, j) => [a, b, i, j] as const));

  it('knows exactly the four roles of the contract', () => {
    expect([...ROLES].sort()).toEqual([...ranked].sort());
  });

  it.each(pairs)('a %s key of a %s member acts with the lower of the two', (keyRole, memberRole, i, j) => {
    expect(lowerRole(keyRole, memberRole)).toBe(ranked[Math.min(i, j)]);
  });

  it('demoting the member below its key demotes the key: an OWNER key of a VIEWER member acts as a VIEWER', () => {
    expect(lowerRole('OWNER', 'VIEWER')).toBe('VIEWER');
    expect(lowerRole('VIEWER', 'OWNER')).toBe('VIEWER');
  });

  it.each(pairs)('%s satisfies a route that needs %s only when it ranks at least as high', (role, required, i, j) => {
    expect(roleAtLeast(role, required)).toBe(i >= j);
  });
});
