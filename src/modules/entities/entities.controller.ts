import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { Quota } from '../../common/quota/quota.interceptor';
import { CreateEntityDto, ListEntitiesQueryDto, UpdateEntityDto } from './dto/entity.dto';
import { EntitiesService } from './entities.service';

const EntityId = () => Param('entityId', new IdParamPipe('entity'));

@ApiTags('entities')
@Roles('VIEWER')
@Controller('entities')
export class EntitiesController {
  constructor(private readonly entities: EntitiesService) {}

  @Post()
  @Roles('OWNER')
  @Quota('entities.max')
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateEntityDto) {
    return this.entities.create(caller.accountId, dto);
  }

  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListEntitiesQueryDto) {
    return this.entities.list(caller.accountId, query);
  }

  @Get(':entityId')
  get(@Auth() caller: AuthenticatedCaller, @EntityId() entityId: string) {
    return this.entities.get(caller.accountId, entityId);
  }

  @Patch(':entityId')
  @Roles('OWNER')
  update(@Auth() caller: AuthenticatedCaller, @EntityId() entityId: string, @Body() dto: UpdateEntityDto) {
    return this.entities.update(caller.accountId, entityId, dto);
  }

  @Delete(':entityId')
  @Roles('OWNER')
  delete(@Auth() caller: AuthenticatedCaller, @EntityId() entityId: string) {
    return this.entities.delete(caller.accountId, entityId);
  }
}
