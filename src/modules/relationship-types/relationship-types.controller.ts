import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { Quota } from '../../common/quota/quota.interceptor';
import { CreateRelationshipTypeDto, ListRelationshipTypesQueryDto, RelationshipTypeResponse, UpdateRelationshipTypeDto } from './dto/relationship-type.dto';
import { RelationshipTypesService, typeEntities } from './relationship-types.service';

const RelationshipTypeId = () => Param('relationshipTypeId', new IdParamPipe('relationshipType'));

@ApiTags('relationship types')
@Roles('VIEWER')
@Controller('relationships/types')
export class RelationshipTypesController {
  constructor(private readonly types: RelationshipTypesService) {}

  @ApiDoc('Create a relationship type', {
    description: 'A kind of link from a source entity to a target entity (they may be the same); it counts in each entity it touches.',
    quota: 'relationshipTypes.maxPerEntity',
    created: RelationshipTypeResponse,
    errors: {
      404: 'One of the entities is not in the account.',
      409: 'A type with this name already links these two entities.',
    },
  })
  @Post()
  @Roles('MEMBER')
  @Quota('relationshipTypes.maxPerEntity', (created: RelationshipTypeResponse) => typeEntities(created).map((scopeId) => ({ scopeId, amount: 1 })))
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateRelationshipTypeDto) {
    return this.types.create(caller.accountId, dto);
  }

  @ApiDoc('List relationship types', { description: 'A plain array (at most 200), as SOLAPI answers it; `entityId` matches either side.', okArray: RelationshipTypeResponse })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListRelationshipTypesQueryDto) {
    return this.types.list(caller.accountId, query);
  }

  @ApiDoc('Get a relationship type', { ok: RelationshipTypeResponse })
  @Get(':relationshipTypeId')
  get(@Auth() caller: AuthenticatedCaller, @RelationshipTypeId() relationshipTypeId: string) {
    return this.types.get(caller.accountId, relationshipTypeId);
  }

  @ApiDoc('Update a relationship type', {
    description: 'Only the name, the description and the labels may change; the entities and the cardinality are fixed.',
    ok: RelationshipTypeResponse,
    errors: { 409: 'A type with the new name already links these two entities.' },
  })
  @Patch(':relationshipTypeId')
  @Roles('MEMBER')
  update(@Auth() caller: AuthenticatedCaller, @RelationshipTypeId() relationshipTypeId: string, @Body() dto: UpdateRelationshipTypeDto) {
    return this.types.update(caller.accountId, relationshipTypeId, dto);
  }

  @ApiDoc('Delete a relationship type', {
    description: 'Frees its units of `relationshipTypes.maxPerEntity`.',
    ok: RelationshipTypeResponse,
    errors: { 409: 'The type still has relationships.' },
  })
  @Delete(':relationshipTypeId')
  @Roles('MEMBER')
  delete(@Auth() caller: AuthenticatedCaller, @RelationshipTypeId() relationshipTypeId: string) {
    return this.types.delete(caller.accountId, relationshipTypeId);
  }
}
