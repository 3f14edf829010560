import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { Quota, QuotaInStatement } from '../../common/quota/quota.interceptor';
import {
  BulkCreateRelationshipsDto,
  BulkCreateRelationshipsResponse,
  CreateRelationshipDto,
  ListRelationshipsQueryDto,
  UpdateRelationshipDto,
} from './dto/relationship.dto';
import { RelationshipsService } from './relationships.service';

const RelationshipId = () => Param('relationshipId', new IdParamPipe('relationship'));

// Fixed paths (bulk, list, type/:id) are declared before :relationshipId so that they win.
@ApiTags('relationships')
@Roles('VIEWER')
@Controller('relationships')
export class RelationshipsController {
  constructor(private readonly relationships: RelationshipsService) {}

  /** SPEC §6: links two records with a relationship type, stored in the type's direction. */
  @Post()
  @Roles('MEMBER')
  @QuotaInStatement('relationships.max')
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateRelationshipDto) {
    return this.relationships.create(caller.accountId, dto);
  }

  /** Every source with every target (at most 10,000 pairs); all or nothing against the remaining quota. */
  @Post('bulk')
  @Roles('MEMBER')
  @Quota('relationships.max', (result: BulkCreateRelationshipsResponse) => [{ scopeId: '', amount: result.created }])
  createBulk(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkCreateRelationshipsDto) {
    return this.relationships.createBulk(caller.accountId, dto);
  }

  @Get('list')
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListRelationshipsQueryDto) {
    return this.relationships.list(caller.accountId, query);
  }

  /** The same as GET /relationships/list. */
  @Get()
  listAlias(@Auth() caller: AuthenticatedCaller, @Query() query: ListRelationshipsQueryDto) {
    return this.relationships.list(caller.accountId, query);
  }

  /** A plain array (at most 500) of the type's relationships, as SOLAPI answers it. */
  @Get('type/:relationshipTypeId')
  listByType(@Auth() caller: AuthenticatedCaller, @Param('relationshipTypeId', new IdParamPipe('relationshipType')) relationshipTypeId: string) {
    return this.relationships.listByType(caller.accountId, relationshipTypeId);
  }

  @Get(':relationshipId')
  get(@Auth() caller: AuthenticatedCaller, @RelationshipId() relationshipId: string) {
    return this.relationships.get(caller.accountId, relationshipId);
  }

  @Patch(':relationshipId')
  @Roles('MEMBER')
  update(@Auth() caller: AuthenticatedCaller, @RelationshipId() relationshipId: string, @Body() dto: UpdateRelationshipDto) {
    return this.relationships.update(caller.accountId, relationshipId, dto);
  }

  @Delete(':relationshipId')
  @Roles('MEMBER')
  delete(@Auth() caller: AuthenticatedCaller, @RelationshipId() relationshipId: string) {
    return this.relationships.delete(caller.accountId, relationshipId);
  }
}
