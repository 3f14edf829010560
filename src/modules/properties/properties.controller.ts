import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { Quota, type QuotaUse } from '../../common/quota/quota.interceptor';
import { BulkCreatePropertiesDto, BulkCreatedPropertiesResponse, CreatePropertyDto, ListPropertiesQueryDto, PropertyResponse, UpdatePropertyDto } from './dto/property.dto';
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

  @ApiDoc('Create a property', {
    description: 'A field of an entity.',
    quota: 'properties.maxPerEntity',
    created: PropertyResponse,
    errors: {
      400: 'Options missing for DROPDOWN, RADIO or MULTI_CHECKBOX, or given for another type.',
      404: 'No such entity in the account.',
      409: 'The name, or the key, is already used in the entity.',
    },
  })
  @Post()
  @Roles('OWNER')
  @Quota('properties.maxPerEntity', (created: PropertyResponse) => perEntity([created]))
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreatePropertyDto) {
    return this.properties.create(caller.accountId, dto);
  }

  @ApiDoc('Create properties in bulk', {
    description: '1–500 properties, possibly of several entities, all or none.',
    quota: 'properties.maxPerEntity',
    created: BulkCreatedPropertiesResponse,
    errors: {
      403: 'Forbidden (the key’s role is too low) or QuotaExceeded (an entity would pass `properties.maxPerEntity`); nothing is created.',
      404: 'One of the entities is not in the account.',
      409: 'Two properties of the batch, or one of them and a stored one, share a name or a key in their entity; nothing is created.',
    },
  })
  @Post('bulk')
  @Roles('OWNER')
  @Quota('properties.maxPerEntity', (created: { data: PropertyResponse[] }) => perEntity(created.data))
  createBulk(@Auth() caller: AuthenticatedCaller, @Body() dto: BulkCreatePropertiesDto) {
    return this.properties.createBulk(caller.accountId, dto);
  }

  @ApiDoc('List an entity’s properties', { description: 'Oldest first.', page: PropertyResponse, errors: { 404: 'No such entity in the account.' } })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() query: ListPropertiesQueryDto) {
    return this.properties.list(caller.accountId, query);
  }

  @ApiDoc('Get a property', { ok: PropertyResponse })
  @Get(':propertyId')
  get(@Auth() caller: AuthenticatedCaller, @PropertyId() propertyId: string) {
    return this.properties.get(caller.accountId, propertyId);
  }

  @ApiDoc('Update a property', {
    description: 'Changes name, key, required, options (replaced whole) or description; never the entity or the field type.',
    ok: PropertyResponse,
    errors: { 409: 'The new name or key is already used in the entity.' },
  })
  @Patch(':propertyId')
  @Roles('OWNER')
  update(@Auth() caller: AuthenticatedCaller, @PropertyId() propertyId: string, @Body() dto: UpdatePropertyDto) {
    return this.properties.update(caller.accountId, propertyId, dto);
  }

  @ApiDoc('Delete a property', {
    description: 'Also removes its values from the entity’s records, and frees a unit of `properties.maxPerEntity`.',
    ok: PropertyResponse,
  })
  @Delete(':propertyId')
  @Roles('OWNER')
  delete(@Auth() caller: AuthenticatedCaller, @PropertyId() propertyId: string) {
    return this.properties.delete(caller.accountId, propertyId);
  }
}
