import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { Quota } from '../../common/quota/quota.interceptor';
import { CreateEntityDto, EntityResponse, ListEntitiesQueryDto, UpdateEntityDto } from './dto/entity.dto';
import { EntitiesService } from './entities.service';

const EntityId = () => Param('entityId', new IdParamPipe('entity'));

@ApiTags('entities')
@Roles('VIEWER')
@Controller('entities')
export class EntitiesController {
  constructor(private readonly entities: EntitiesService) {}

  @ApiDoc('Create an entity', {
    description: 'An object type such as Contact, Company or Deal.',
    quota: 'entities.max',
    created: EntityResponse,
    errors: { 409: 'The slug is already used in the account.' },
  })
  @Post()
  @Roles('OWNER')
  @Quota('entities.max')
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateEntityDto) {
    return this.entities.create(caller.accountId, dto);
  }

  @ApiDoc('List entities', { description: 'Oldest first. `keyword` matches the name, case-insensitively.', page: EntityResponse })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListEntitiesQueryDto) {
    return this.entities.list(caller.accountId, query);
  }

  @ApiDoc('Get an entity', { ok: EntityResponse })
  @Get(':entityId')
  get(@Auth() caller: AuthenticatedCaller, @EntityId() entityId: string) {
    return this.entities.get(caller.accountId, entityId);
  }

  @ApiDoc('Update an entity', {
    description: 'Changes the name, the slug or the description (`null` clears it); fields left out keep their value.',
    ok: EntityResponse,
    errors: { 409: 'The new slug is already used in the account.' },
  })
  @Patch(':entityId')
  @Roles('OWNER')
  update(@Auth() caller: AuthenticatedCaller, @EntityId() entityId: string, @Body() dto: UpdateEntityDto) {
    return this.entities.update(caller.accountId, entityId, dto);
  }

  @ApiDoc('Delete an entity', {
    description: 'Answers the deleted entity and frees a unit of `entities.max`.',
    ok: EntityResponse,
    errors: { 409: 'The entity still has records (trashed ones included), properties or relationship types.' },
  })
  @Delete(':entityId')
  @Roles('OWNER')
  delete(@Auth() caller: AuthenticatedCaller, @EntityId() entityId: string) {
    return this.entities.delete(caller.accountId, entityId);
  }
}
