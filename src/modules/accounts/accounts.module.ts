import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { MemberEntity } from '../members/member.entity';
import { AccountEntity } from './account.entity';
import { AccountsService } from './accounts.service';

@Module({
  imports: [TypeOrmModule.forFeature([AccountEntity, MemberEntity]), ApiKeysModule],
  providers: [AccountsService],
  exports: [AccountsService],
})
export class AccountsModule {}
