import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { Quota, type QuotaUse } from '../../common/quota/quota.interceptor';
import { BulkCreatePropertiesDto, CreatePropertyDto, ListPropertiesQueryDto, PropertyResponse, UpdatePropertyDto } from './dto/property.dto';
import { PropertiesService } from './properties.service';

const PropertyId = () => Param('propertyId', new IdParamPipe('property'));

/** One unit of `properties.maxPerEntity` per created property, counted in its entity. */
function perEntity(created: PropertyResponse[]): QuotaUse[] {
  const counts = new Map<string, number>();
  for (const p of created) counts.set(p.entityId, (counts.get(p.entityId) ?? 0) + 1);
  return [...counts].map(([scopeId, amount]) => ({ scopeId, amount }));
}

@ApiTags('properties')
@Roles('VIEWER')
@Controller('properties')
export class PropertiesController {
  constructor(private readonly properties: PropertiesService) {}

  @Post()
  @Roles('OWNER')
  @Quota('properties.maxPerEntity', (created: PropertyResponse) => perEntity([created]))
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreatePropertyDto) {
    return this.properties.create(caller.accountId, dto);
  }

  /** 1–500 properties, all or none. */
  @Post('bulk')
  @Roles('OWNER')
  @Quota('properties.maxPerEntity', (created: { data: PropertyResponse[] }) => perEntity(created.data))
  createBulk(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkCreatePropertiesDto) {
    return this.properties.createBulk(caller.accountId, dto);
  }

  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListPropertiesQueryDto) {
    return this.properties.list(caller.accountId, query);
  }

  @Get(':propertyId')
  get(@Auth() caller: AuthenticatedCaller, @PropertyId() propertyId: string) {
    return this.properties.get(caller.accountId, propertyId);
  }

  @Patch(':propertyId')
  @Roles('OWNER')
  update(@Auth() caller: AuthenticatedCaller, @PropertyId() propertyId: string, @Body() dto: UpdatePropertyDto) {
    return this.properties.update(caller.accountId, propertyId, dto);
  }

  @Delete(':propertyId')
  @Roles('OWNER')
  delete(@Auth() caller: AuthenticatedCaller, @PropertyId() propertyId: string) {
    return this.properties.delete(caller.accountId, propertyId);
  }
}
