import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsInt, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';

const CONDITION_GROUP_EXAMPLE = {
  operator: 'AND',
  conditions: [
    { field: 'name', operator: 'contains', value: '길동' },
    {
      operator: 'OR',
      conditions: [
        { field: 'tags', operator: 'containsAny', value: ['vip'] },
        { field: 'dateCreated', operator: 'gte', value: '2026-03-01T00:00:00+09:00' },
      ],
    },
  ],
};

/** `POST /records/search/advanced` (SPEC §8). The condition parts are checked by the search module, naming JSON paths. */
export class AdvancedSearchDto {
  @ApiIdProperty('entity', 'The entity whose records to search.')
  @IsCrmId('entity')
  entityId: string;

  @ApiIdProperty('segment', 'Only the members of this segment of the entity, ANDed with the other conditions.', { required: false })
  @IsOptional() @IsCrmId('segment')
  segmentId?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, description: 'Part of the name, any case, any script from one character.', example: '길동' })
  @IsOptional() @IsString() @Length(1, 100)
  keyword?: string;

  @ApiPropertyOptional({ default: false, description: '`true` searches the trash instead.' })
  @IsOptional() @IsBoolean()
  isDeleted: boolean = false;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      '`{ operator: "AND" | "OR", conditions: [...] }`, each item a condition `{ field, operator, value? }` or a nested group: at most 50 conditions, 5 levels, 100 values in a list, 1,000 characters in a text. Fields: `name`, `tags`, `dateCreated`, `dateUpdated`, `data.<propertyId>`. Operators by field type and examples: docs/search.md.',
    example: CONDITION_GROUP_EXAMPLE,
  })
  @IsOptional() @IsObject()
  conditionGroup?: object;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 3,
    description: 'Up to 3 fields, `-` in front for descending; records without a value last; ties by record ID.',
    default: ['-dateCreated'],
    example: ['-dateCreated'],
  })
  @IsOptional() @IsArray()
  sortFields?: unknown[];

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 20 })
  @IsOptional() @IsInt() @Min(1) @Max(200)
  limit: number = 20;

  @ApiPropertyOptional({ description: 'The previous page’s `nextKey`, with the same query.' })
  @IsOptional() @IsString() @MaxLength(4096)
  startKey?: string;
}
