import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { Quota } from '../../common/quota/quota.interceptor';
import { BulkDeleteRecordsDto, BulkRestoreRecordsDto, CreateRecordDto, DeleteRecordQueryDto, ListRecordsQueryDto, UpdateRecordDto } from './dto/record.dto';
import { RecordsService } from './records.service';

const RecordId = () => Param('recordId', new IdParamPipe('record'));

@ApiTags('records')
@Roles('VIEWER')
@Controller('records')
export class RecordsController {
  constructor(private readonly records: RecordsService) {}

  @Post()
  @Roles('MEMBER')
  @Quota('records.max')
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateRecordDto) {
    return this.records.create(caller.accountId, dto);
  }

  /** Up to 1,000 records to the trash, or with `permanent` for good. */
  @Post('bulk/delete')
  @HttpCode(200)
  @Roles('MEMBER')
  bulkDelete(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkDeleteRecordsDto) {
    return this.records.bulkDelete(caller.accountId, dto);
  }

  /** Up to 1,000 records out of the trash: all of them, or none when the plan has no room. */
  @Post('bulk/restore')
  @HttpCode(200)
  @Roles('MEMBER')
  bulkRestore(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkRestoreRecordsDto) {
    return this.records.bulkRestore(caller.accountId, dto);
  }

  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListRecordsQueryDto) {
    return this.records.list(caller.accountId, query);
  }

  @Get(':recordId')
  get(@Auth() caller: AuthenticatedCaller, @RecordId() recordId: string) {
    return this.records.get(caller.accountId, recordId);
  }

  @Patch(':recordId')
  @Roles('MEMBER')
  update(@Auth() caller: AuthenticatedCaller, @RecordId() recordId: string, @Body() dto: UpdateRecordDto) {
    return this.records.update(caller.accountId, recordId, dto);
  }

  @Delete(':recordId')
  @Roles('MEMBER')
  delete(@Auth() caller: AuthenticatedCaller, @RecordId() recordId: string, @Query() query: DeleteRecordQueryDto) {
    return this.records.delete(caller.accountId, recordId, query.permanent);
  }

  @Post(':recordId/restore')
  @HttpCode(200)
  @Roles('MEMBER')
  restore(@Auth() caller: AuthenticatedCaller, @RecordId() recordId: string) {
    return this.records.restore(caller.accountId, recordId);
  }
}
