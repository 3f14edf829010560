import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { PageQueryDto } from '../../common/http/pagination';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { HistoryEntryResponse } from './dto/history.dto';
import { HistoryService } from './history.service';

@ApiTags('records')
@Roles('VIEWER')
@Controller('records/:recordId/history')
export class HistoryController {
  constructor(private readonly history: HistoryService) {}

  @ApiDoc('A record’s history', {
    description:
      'Every change of the record, newest first: CREATED, UPDATED (one entry per request, each changed field with `from` and `to`), DELETED (to the trash), RESTORED, RELATIONSHIP_ADDED and RELATIONSHIP_REMOVED (a relationship’s entry is in the history of both its records), each with the member, API key and request that made it. Written in the transaction of the change, by bulks and imports too (one entry per record). A permanent delete removes the history with the record. docs/history.md has examples.',
    page: HistoryEntryResponse,
    errors: { 404: 'No such record in the account (in the trash or not).' },
  })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Param('recordId', new IdParamPipe('record')) recordId: string, @Query() query: PageQueryDto) {
    return this.history.forRecord(caller.accountId, recordId, query);
  }
}
