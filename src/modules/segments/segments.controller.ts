import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { Quota } from '../../common/quota/quota.interceptor';
import { CreateSegmentDto, ListSegmentsQueryDto, SegmentCountResponse, SegmentResponse, UpdateSegmentDto } from './dto/segment.dto';
import { SegmentsService } from './segments.service';

const SegmentId = () => Param('segmentId', new IdParamPipe('segment'));

@ApiTags('segments')
@Roles('VIEWER')
@Controller('segments')
export class SegmentsController {
  constructor(private readonly segments: SegmentsService) {}

  @ApiDoc('Create a segment', {
    description:
      'A saved condition group over one entity’s records (docs/search.md); its members are whatever records match when it is read. Every fault of the conditions is a 400 naming its JSON path.',
    quota: 'segments.maxPerEntity',
    created: SegmentResponse,
    errors: { 404: 'No such entity in the account.', 409: 'The entity already has a segment of this name.' },
  })
  @Post()
  @Roles('MEMBER')
  @Quota('segments.maxPerEntity', (created: SegmentResponse) => [{ scopeId: created.entityId, amount: 1 }])
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateSegmentDto) {
    return this.segments.create(caller.accountId, caller.memberId, dto);
  }

  @ApiDoc('List an entity’s segments', { description: 'A plain array (at most 500), by `priority` ascending, then oldest first.', okArray: SegmentResponse, errors: { 404: 'No such entity in the account.' } })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListSegmentsQueryDto) {
    return this.segments.list(caller.accountId, query);
  }

  @ApiDoc('Get a segment', { ok: SegmentResponse })
  @Get(':segmentId')
  get(@Auth() caller: AuthenticatedCaller, @SegmentId() segmentId: string) {
    return this.segments.get(caller.accountId, segmentId);
  }

  @ApiDoc('Count a segment’s members', { description: 'Exact: the entity’s records out of the trash that match now.', ok: SegmentCountResponse })
  @Get(':segmentId/count')
  count(@Auth() caller: AuthenticatedCaller, @SegmentId() segmentId: string) {
    return this.segments.count(caller.accountId, segmentId);
  }

  @ApiDoc('Update a segment', {
    description: 'Any field but `entityId` (a 400); `conditionGroup` is replaced whole and checked again.',
    ok: SegmentResponse,
    errors: { 409: 'The entity already has a segment of the new name.' },
  })
  @Patch(':segmentId')
  @Roles('MEMBER')
  update(@Auth() caller: AuthenticatedCaller, @SegmentId() segmentId: string, @Body() dto: UpdateSegmentDto) {
    return this.segments.update(caller.accountId, segmentId, dto);
  }

  @ApiDoc('Delete a segment', { description: 'Frees its unit of `segments.maxPerEntity`; the records are untouched.', ok: SegmentResponse })
  @Delete(':segmentId')
  @Roles('MEMBER')
  delete(@Auth() caller: AuthenticatedCaller, @SegmentId() segmentId: string) {
    return this.segments.delete(caller.accountId, segmentId);
  }
}
