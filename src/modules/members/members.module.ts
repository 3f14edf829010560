import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { MemberEntity } from './member.entity';
import { MembersService } from './members.service';

@Module({
  imports: [TypeOrmModule.forFeature([MemberEntity])],
  providers: [MembersService, provideScopedRepository(MemberEntity)],
  exports: [MembersService],
})
export class MembersModule {}
