import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '../../common/auth/roles';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';

export type MemberStatus = 'ACTIVE' | 'DISABLED';

@Entity('members')
export class MemberEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'member_id', type: 'varchar', length: 32 })
  memberId: string;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ type: 'text' })
  role: Role;

  @Column({ type: 'text' })
  status: MemberStatus;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
