import { Injectable } from '@nestjs/common';
import { errors } from '../../common/errors/app.exception';
import { boundedPage, decodeCursor, encodeCursor, type Page, type PageQueryDto } from '../../common/http/pagination';
import { RecordsService } from '../records/records.service';
import { HistoryEntryResponse } from './dto/history.dto';
import { HistoryRepository } from './history.repository';

const CURSOR_TAG = 'history';

/** A record's history (SPEC §13), read from the change stream the triggers write with every change. */
@Injectable()
export class HistoryService {
  constructor(
    private readonly repository: HistoryRepository,
    private readonly records: RecordsService,
  ) {}

  /** Newest first; a record in the trash has its history too (404 for no record of the account). */
  async forRecord(accountId: string, recordId: string, page: PageQueryDto): Promise<Page<HistoryEntryResponse>> {
    await this.records.assertExist(accountId, [recordId]);
    const before = page.startKey === undefined ? undefined : String(decodeCursor(page.startKey, CURSOR_TAG, 1)[0]);
    if (before !== undefined && !/^\d{1,18}$/.test(before)) throw errors.validation('startKey: 올바른 페이지 키가 아닙니다.');
    const rows = await this.repository.forRecord(accountId, recordId, before, page.limit + 1);
    return boundedPage(rows, page.limit, HistoryEntryResponse.from, (row) => encodeCursor([CURSOR_TAG, row.change_id]));
  }
}
