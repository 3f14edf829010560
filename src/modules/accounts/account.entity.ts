import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';
import type { Tier } from '../../common/quota/limits';

export type AccountStatus = 'ACTIVE' | 'DISABLED';

@Entity('accounts')
export class AccountEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  tier: Tier;

  @Column({ type: 'text' })
  status: AccountStatus;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
