import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { MembersModule } from '../members/members.module';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity]), MembersModule],
  controllers: [ApiKeysController],
  providers: [ApiKeysService, provideScopedRepository(ApiKeyEntity)],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}
