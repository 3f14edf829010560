import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import type { Role } from '../../common/auth/roles';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { MemberEntity } from './member.entity';

/** The members of an account: the people (or systems) that API keys act for. */
@Injectable()
export class MembersService {
  constructor(@InjectScopedRepository(MemberEntity) private readonly members: AccountScopedRepository<MemberEntity>) {}

  async create(accountId: string, role: Role, name: string | null): Promise<string> {
    const memberId = generateId('member');
    await this.members.insert(accountId, { memberId, role, name, status: 'ACTIVE' });
    return memberId;
  }

  /** The member's role, read FOR SHARE so that it cannot change before the caller's transaction ends. */
  async lockedRole(accountId: string, memberId: string): Promise<Role | undefined> {
    const member = await this.members.query(accountId, 'm').andWhere('m.memberId = :memberId', { memberId }).setLock('pessimistic_read').getOne();
    return member?.role;
  }

  /** The first of `memberIds`, in their order, that is not a member of the account; undefined when all are. */
  async firstMissing(accountId: string, memberIds: string[]): Promise<string | undefined> {
    if (memberIds.length === 0) return undefined;
    const found = new Set((await this.members.find(accountId, { where: { memberId: In(memberIds) }, select: { memberId: true } })).map((m) => m.memberId));
    return memberIds.find((id) => !found.has(id));
  }
}
