import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { BulkCreateEventsDto, BulkCreateEventsResponse, CreateEventDto, EventResponse, EventSummaryResponse, ListEventsQueryDto, SummariesQueryDto } from './dto/event.dto';
import { EventsService } from './events.service';

// Fixed paths (bulk, summaries) only; events have no route of their own ID (they never change).
@ApiTags('events')
@Roles('VIEWER')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @ApiDoc('Record an event', {
    description:
      'What a record did, with an optional value. `201` with the stored event; with an `eventKey` the account already has (for any record), `200` with the event first stored under it, and nothing is stored: a retry is safe, also when two copies arrive at once. docs/activities-and-events.md has the rules.',
    created: EventResponse,
    errors: { 400: '`occurredAt` more than 5 minutes ahead, or a field out of its bounds.', 404: 'No such record in the account, or it is in the trash.' },
  })
  @Post()
  @Roles('MEMBER')
  async create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateEventDto, @Res({ passthrough: true }) res: Response) {
    const { event, created } = await this.events.create(caller.accountId, dto);
    if (!created) res.status(200);
    return event;
  }

  @ApiDoc('Record events in bulk', {
    description: '1–100 events in one statement. One invalid event (a field, a record missing or in the trash, an `occurredAt` too far ahead) fails the batch with a 400 naming its index; events whose `eventKey` is known are skipped and counted.',
    created: BulkCreateEventsResponse,
  })
  @Post('bulk')
  @Roles('MEMBER')
  createBulk(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkCreateEventsDto) {
    return this.events.createBulk(caller.accountId, dto);
  }

  @ApiDoc('Totals of events', {
    description:
      'A plain array of `{ eventType, category, totalCount, totalValue, lastOccurredAt }` (at most 1,000, by type then category) for one record, or over an entity’s records out of the trash. Read from totals kept with every insert: as fast for a record with a million events as for one with ten, and always what counting the stored events gives.',
    okArray: EventSummaryResponse,
    errors: { 400: 'Both or neither of `recordId` and `entityId`.', 404: 'No such record (or it is in the trash) or entity in the account.' },
  })
  @Get('summaries')
  summaries(@Auth() caller: AuthenticatedCaller, @Query() query: SummariesQueryDto) {
    return this.events.summarize(caller.accountId, query);
  }

  @ApiDoc('List events', {
    description: 'Newest `occurredAt` first (`limit` 1–200, default 50). Filters combine; `from` is inclusive, `to` exclusive. Events of a trashed record are left out.',
    page: EventResponse,
    errors: { 404: 'A filter names a record or entity that is not in the account.' },
  })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListEventsQueryDto) {
    return this.events.list(caller.accountId, query);
  }
}
