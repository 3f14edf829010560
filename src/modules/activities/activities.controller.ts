import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { ActivitiesService } from './activities.service';
import { ActivityResponse, CreateActivityDto, ListActivitiesQueryDto, ScheduledActivitiesResponse, ScheduledQueryDto, UpdateActivityDto } from './dto/activity.dto';

const ActivityId = () => Param('activityId', new IdParamPipe('activity'));
const HIDDEN = 'No such activity in the account, or one the caller may not see (PRIVATE, and neither its creator, an assignee nor an OWNER), or its record is in the trash.';
const NOT_YOURS = 'Forbidden: a MEMBER or DEVELOPER changes only the activities it created (an OWNER any).';

// The fixed path (record/:recordId/scheduled) is declared before :activityId.
@ApiTags('activities')
@Roles('VIEWER')
@Controller('activities')
export class ActivitiesController {
  constructor(private readonly activities: ActivitiesService) {}

  @ApiDoc('Create an activity', {
    description:
      'A note, task, call, meeting, e-mail or message about a record, or a calendar item (`recordId` null). `PRIVATE` ones are seen only by their creator, their assignees and OWNERs. docs/activities-and-events.md has the rules.',
    created: ActivityResponse,
    errors: { 400: 'An assignee that is not a member of the account, or a related record that is not in it (the message names the first).', 404: 'No such record in the account, or it is in the trash.' },
  })
  @Post()
  @Roles('MEMBER')
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateActivityDto) {
    return this.activities.create(caller.accountId, caller, dto);
  }

  @ApiDoc('List activities', {
    description: 'Newest first. Filters combine; `recordId=CALENDAR` lists the activities without a record. PRIVATE activities the caller may not see, and activities of trashed records, are left out.',
    page: ActivityResponse,
    errors: { 404: 'A filter names a record or entity that is not in the account.' },
  })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListActivitiesQueryDto) {
    return this.activities.list(caller.accountId, caller, query);
  }

  @ApiDoc('A record’s upcoming activities', {
    description: 'The record’s activities with a `scheduledAt` or `dueDate` from now on, soonest first (by the sooner of the two still ahead); `limit` 1–100, default 20.',
    ok: ScheduledActivitiesResponse,
    errors: { 404: 'No such record in the account, or it is in the trash.' },
  })
  @Get('record/:recordId/scheduled')
  scheduled(@Auth() caller: AuthenticatedCaller, @Param('recordId', new IdParamPipe('record')) recordId: string, @Query() query: ScheduledQueryDto) {
    return this.activities.scheduled(caller.accountId, caller, recordId, query.limit);
  }

  @ApiDoc('Get an activity', { description: 'As the caller may see it.', ok: ActivityResponse, errors: { 404: HIDDEN } })
  @Get(':activityId')
  get(@Auth() caller: AuthenticatedCaller, @ActivityId() activityId: string) {
    return this.activities.get(caller.accountId, caller, activityId);
  }

  @ApiDoc('Change an activity', {
    description: 'Any field but `recordId` (a 400); `null` clears a nullable field, the lists of assignees and related records are replaced whole.',
    ok: ActivityResponse,
    errors: { 400: 'An assignee or related record not in the account, or `recordId` in the body.', 403: NOT_YOURS, 404: HIDDEN },
  })
  @Patch(':activityId')
  @Roles('MEMBER')
  update(@Auth() caller: AuthenticatedCaller, @ActivityId() activityId: string, @Body() dto: UpdateActivityDto) {
    return this.activities.update(caller.accountId, caller, activityId, dto);
  }

  @ApiDoc('Delete an activity', { description: 'For good; answers the deleted activity.', ok: ActivityResponse, errors: { 403: NOT_YOURS, 404: HIDDEN } })
  @Delete(':activityId')
  @Roles('MEMBER')
  delete(@Auth() caller: AuthenticatedCaller, @ActivityId() activityId: string) {
    return this.activities.delete(caller.accountId, caller, activityId);
  }
}
