import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc, type ApiDocOptions } from '../../common/openapi/api-doc.decorator';
import { Quota, QuotaInStatement } from '../../common/quota/quota.interceptor';
import {
  BulkCreateRelationshipsDto,
  BulkCreateRelationshipsResponse,
  BulkMatchRelationshipsDto,
  BulkMatchRelationshipsResponse,
  CreateRelationshipDto,
  ListRelationshipsQueryDto,
  RelationshipListItem,
  RelationshipResponse,
  UpdateRelationshipDto,
} from './dto/relationship.dto';
import { RelationshipsService } from './relationships.service';

const RelationshipId = () => Param('relationshipId', new IdParamPipe('relationship'));

const MISSING_TYPE_OR_RECORD = 'No such relationship type or record in the account, or a record is in the trash.';
const HIDDEN_RELATIONSHIP = 'No such relationship in the account, or one of its records is in the trash.';
const LIST_DOC: ApiDocOptions = {
  description: 'In creation order, each item with the names of its two records; relationships of a trashed record are left out. Filters combine; `entityId` and `recordId` match either side.',
  page: RelationshipListItem,
  errors: { 404: 'A filter names a relationship type, entity or record that is not in the account.' },
};

// Fixed paths (bulk, list, type/:id) are declared before :relationshipId so that they win.
@ApiTags('relationships')
@Roles('VIEWER')
@Controller('relationships')
export class RelationshipsController {
  constructor(private readonly relationships: RelationshipsService) {}

  @ApiDoc('Create a relationship', {
    description:
      'Links two records with a relationship type, stored in the type’s direction: given in reverse, source and target are swapped (for a type between an entity and itself, the direction given is kept). The rules and the order they are checked in: docs/relationships.md.',
    quota: 'relationships.max',
    created: RelationshipResponse,
    errors: {
      400: 'A self-link, entities that match the type in neither direction, or a record of another entity than the one claimed for it.',
      404: MISSING_TYPE_OR_RECORD,
      409: 'The same relationship already exists (`동일한 관계가 이미 존재합니다.`), also when asked in reverse; or the type’s cardinality would be broken.',
    },
  })
  @Post()
  @Roles('MEMBER')
  @QuotaInStatement('relationships.max')
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateRelationshipDto) {
    return this.relationships.create(caller.accountId, dto);
  }

  @ApiDoc('Create relationships in bulk', {
    description:
      'Pairs every source with every target, at most 10,000 pairs (repeated IDs count once). The rules of a single create apply to each pair; existing pairs and self-links are skipped and counted, and any other failure writes nothing.',
    quota: 'relationships.max',
    created: BulkCreateRelationshipsResponse,
    errors: {
      400: 'More than 10,000 pairs, entities that match the type in neither direction, or a record of another entity than the one claimed for it.',
      403: 'Forbidden (the key’s role is too low) or QuotaExceeded (the pairs to create would pass `relationships.max`); nothing is created.',
      404: MISSING_TYPE_OR_RECORD,
      409: 'A pair would break the type’s cardinality; nothing is created.',
    },
  })
  @Post('bulk')
  @Roles('MEMBER')
  @Quota('relationships.max', (result: BulkCreateRelationshipsResponse) => [{ scopeId: '', amount: result.created }])
  createBulk(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkCreateRelationshipsDto) {
    return this.relationships.createBulk(caller.accountId, dto);
  }

  @ApiDoc('Link records whose values match', {
    description:
      'Links each source (listed, or the records that match `sourceFilter` now) to the target entity’s records whose values equal its own on every criterion: trimmed, in Unicode NFC, without case; phone numbers by their digits; an empty value never matches, and a record never matches itself. `FIRST` links each source to its oldest match (`dateCreated`, then `recordId`), `ALL` to every match (at most 10,000 pairs). Existing pairs are skipped and counted; any other failure writes nothing. docs/relationships.md has an example.',
    quota: 'relationships.max',
    created: BulkMatchRelationshipsResponse,
    errors: {
      400: 'A criterion names a field the entity does not have or that cannot be compared, both or neither of `sourceRecordIds` and `sourceFilter`, more than 5,000 sources matching `sourceFilter`, more than 10,000 pairs with `ALL`, entities that match the type in neither direction, or a source of another entity.',
      403: 'Forbidden (the key’s role is too low) or QuotaExceeded (the pairs to create would pass `relationships.max`); nothing is created.',
      404: 'No such relationship type or segment in the account, or a listed source is missing or in the trash.',
      409: 'A pair would break the type’s cardinality (two sources matching one target of a one-to-one type, say); nothing is created.',
    },
  })
  @Post('bulk-match')
  @Roles('MEMBER')
  @Quota('relationships.max', (result: BulkMatchRelationshipsResponse) => [{ scopeId: '', amount: result.created }])
  bulkMatch(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkMatchRelationshipsDto) {
    return this.relationships.bulkMatch(caller.accountId, dto);
  }

  @ApiDoc('List relationships', LIST_DOC)
  @Get('list')
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListRelationshipsQueryDto) {
    return this.relationships.list(caller.accountId, query);
  }

  @ApiDoc('List relationships (same as /relationships/list)', LIST_DOC)
  @Get()
  listAlias(@Auth() caller: AuthenticatedCaller, @Query() query: ListRelationshipsQueryDto) {
    return this.relationships.list(caller.accountId, query);
  }

  @ApiDoc('List a type’s relationships', {
    description: 'A plain array (at most 500), as SOLAPI answers it: in creation order, each with the names of its two records; relationships of a trashed record are left out.',
    okArray: RelationshipListItem,
    errors: { 404: 'No such relationship type in the account.' },
  })
  @Get('type/:relationshipTypeId')
  listByType(@Auth() caller: AuthenticatedCaller, @Param('relationshipTypeId', new IdParamPipe('relationshipType')) relationshipTypeId: string) {
    return this.relationships.listByType(caller.accountId, relationshipTypeId);
  }

  @ApiDoc('Get a relationship', { description: 'Hidden (404) while either of its records is in the trash; back when the record is restored.', ok: RelationshipResponse, errors: { 404: HIDDEN_RELATIONSHIP } })
  @Get(':relationshipId')
  get(@Auth() caller: AuthenticatedCaller, @RelationshipId() relationshipId: string) {
    return this.relationships.get(caller.accountId, relationshipId);
  }

  @ApiDoc('Replace a relationship’s metadata', {
    description: '`metadata` is replaced whole; the type, the source and the target never change.',
    ok: RelationshipResponse,
    errors: { 404: HIDDEN_RELATIONSHIP },
  })
  @Patch(':relationshipId')
  @Roles('MEMBER')
  update(@Auth() caller: AuthenticatedCaller, @RelationshipId() relationshipId: string, @Body() dto: UpdateRelationshipDto) {
    return this.relationships.update(caller.accountId, relationshipId, dto);
  }

  @ApiDoc('Delete a relationship', {
    description: 'For good; answers the deleted relationship and frees its unit of `relationships.max` at once.',
    ok: RelationshipResponse,
    errors: { 404: HIDDEN_RELATIONSHIP },
  })
  @Delete(':relationshipId')
  @Roles('MEMBER')
  delete(@Auth() caller: AuthenticatedCaller, @RelationshipId() relationshipId: string) {
    return this.relationships.delete(caller.accountId, relationshipId);
  }
}
