import { Reflector } from '@nestjs/core';

export const ROLES = ['VIEWER', 'MEMBER', 'DEVELOPER', 'OWNER'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { VIEWER: 0, MEMBER: 1, DEVELOPER: 2, OWNER: 3 };

export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/** The lower of two roles: a key acts with min(its own role, its member's role). */
export function lowerRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

/** The least role a route needs. Set on every controller (reads) and on each write handler. */
export const Roles = Reflector.createDecorator<Role>();
