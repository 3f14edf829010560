import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { Quota } from '../../common/quota/quota.interceptor';
import { CreateRelationshipTypeDto, ListRelationshipTypesQueryDto, RelationshipTypeResponse, UpdateRelationshipTypeDto } from './dto/relationship-type.dto';
import { RelationshipTypesService, typeEntities } from './relationship-types.service';

const RelationshipTypeId = () => Param('relationshipTypeId', new IdParamPipe('relationshipType'));

@ApiTags('relationship types')
@Roles('VIEWER')
@Controller('relationships/types')
export class RelationshipTypesController {
  constructor(private readonly types: RelationshipTypesService) {}

  @Post()
  @Roles('MEMBER')
  @Quota('relationshipTypes.maxPerEntity', (created: RelationshipTypeResponse) => typeEntities(created).map((scopeId) => ({ scopeId, amount: 1 })))
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateRelationshipTypeDto) {
    return this.types.create(caller.accountId, dto);
  }

  /** A plain array (at most 200), as SOLAPI answers it. */
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListRelationshipTypesQueryDto) {
    return this.types.list(caller.accountId, query);
  }

  @Get(':relationshipTypeId')
  get(@Auth() caller: AuthenticatedCaller, @RelationshipTypeId() relationshipTypeId: string) {
    return this.types.get(caller.accountId, relationshipTypeId);
  }

  @Patch(':relationshipTypeId')
  @Roles('MEMBER')
  update(@Auth() caller: AuthenticatedCaller, @RelationshipTypeId() relationshipTypeId: string, @Body() dto: UpdateRelationshipTypeDto) {
    return this.types.update(caller.accountId, relationshipTypeId, dto);
  }

  @Delete(':relationshipTypeId')
  @Roles('MEMBER')
  delete(@Auth() caller: AuthenticatedCaller, @RelationshipTypeId() relationshipTypeId: string) {
    return this.types.delete(caller.accountId, relationshipTypeId);
  }
}
