import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { Quota } from '../../common/quota/quota.interceptor';
import {
  BulkDeleteRecordsDto,
  BulkRecordsResponse,
  BulkRestoreRecordsDto,
  CreateRecordDto,
  DeleteRecordQueryDto,
  ListRecordsQueryDto,
  RecordResponse,
  UpdateRecordDto,
} from './dto/record.dto';
import { AdvancedSearchDto } from '../search/dto/search.dto';
import { RecordsService } from './records.service';

const RecordId = () => Param('recordId', new IdParamPipe('record'));

@ApiTags('records')
@Roles('VIEWER')
@Controller('records')
export class RecordsController {
  constructor(private readonly records: RecordsService) {}

  @ApiDoc('Create a record', {
    description: '`data` is keyed by the entity’s property IDs, each value checked against its field type (docs/conventions.md).',
    quota: 'records.max',
    created: RecordResponse,
    errors: {
      400: 'A value of the wrong type, an unknown property ID, or a required property missing; the message names the property.',
      404: 'No such entity in the account.',
    },
  })
  @Post()
  @Roles('MEMBER')
  @Quota('records.max')
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateRecordDto) {
    return this.records.create(caller.accountId, dto);
  }

  @ApiDoc('Delete records in bulk', {
    description: 'Up to 1,000 records to the trash, or with `permanent: true` for good (with their relationships). Answers the records that changed; IDs not in the account are left out.',
    ok: BulkRecordsResponse,
  })
  @Post('bulk/delete')
  @HttpCode(200)
  @Roles('MEMBER')
  bulkDelete(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkDeleteRecordsDto) {
    return this.records.bulkDelete(caller.accountId, dto);
  }

  @ApiDoc('Restore records in bulk', {
    description: 'Up to 1,000 records out of the trash: all of them, or none when the plan has no room. IDs not in the account are left out.',
    quota: 'records.max',
    ok: BulkRecordsResponse,
    errors: { 403: 'Forbidden (the key’s role is too low) or QuotaExceeded (the restored records would pass `records.max`); nothing is restored.' },
  })
  @Post('bulk/restore')
  @HttpCode(200)
  @Roles('MEMBER')
  bulkRestore(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkRestoreRecordsDto) {
    return this.records.bulkRestore(caller.accountId, dto);
  }

  @ApiDoc('Search an entity’s records', {
    description:
      'The condition language of docs/search.md: nested AND/OR groups of conditions on the name, tags, dates and property values, with `keyword` and up to three sort fields. Pages never skip or repeat a record whose sort values do not change; a `startKey` belongs to the query that made it (another query, 400). A write is visible to the next search.',
    page: RecordResponse,
    errors: { 400: 'A fault of the query, naming its JSON path (`conditionGroup.conditions[2].value`).', 404: 'No such entity in the account.' },
  })
  @Post('search/advanced')
  @HttpCode(200)
  search(@Auth() caller: AuthenticatedCaller, @Body() dto: AdvancedSearchDto) {
    return this.records.search(caller.accountId, dto);
  }

  @ApiDoc('List an entity’s records', {
    description: 'Sorted by `sortField` and `sortDirection` (newest first by default), filtered by `filters` and `keyword`; `isDeleted=true` lists the trash instead. A `startKey` belongs to its query: reused under another, 400.',
    page: RecordResponse,
    errors: { 404: 'No such entity in the account.' },
  })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListRecordsQueryDto) {
    return this.records.list(caller.accountId, query);
  }

  @ApiDoc('Get a record', { description: 'A trashed record answers too, with `isDeleted: true`.', ok: RecordResponse })
  @Get(':recordId')
  get(@Auth() caller: AuthenticatedCaller, @RecordId() recordId: string) {
    return this.records.get(caller.accountId, recordId);
  }

  @ApiDoc('Update a record', {
    description: '`data` is merged (keys given replace their values, `null` removes one); `tags` is replaced whole. Required properties stay required.',
    ok: RecordResponse,
    errors: { 400: 'A value of the wrong type, an unknown property ID, or a required property removed.', 404: 'No such record, or it is in the trash.' },
  })
  @Patch(':recordId')
  @Roles('MEMBER')
  update(@Auth() caller: AuthenticatedCaller, @RecordId() recordId: string, @Body() dto: UpdateRecordDto) {
    return this.records.update(caller.accountId, recordId, dto);
  }

  @ApiDoc('Delete a record', {
    description: 'Moves it to the trash (its relationships are hidden, and come back on restore), freeing a unit of `records.max`; `permanent=true` removes it for good with its relationships. Trashing a trashed record changes nothing.',
    ok: RecordResponse,
  })
  @Delete(':recordId')
  @Roles('MEMBER')
  delete(@Auth() caller: AuthenticatedCaller, @RecordId() recordId: string, @Query() query: DeleteRecordQueryDto) {
    return this.records.delete(caller.accountId, recordId, query.permanent);
  }

  @ApiDoc('Restore a record', {
    description: 'Brings it back from the trash with its relationships. Restoring an active record changes nothing.',
    quota: 'records.max',
    ok: RecordResponse,
  })
  @Post(':recordId/restore')
  @HttpCode(200)
  @Roles('MEMBER')
  restore(@Auth() caller: AuthenticatedCaller, @RecordId() recordId: string) {
    return this.records.restore(caller.accountId, recordId);
  }
}
