import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EntitiesModule } from '../entities/entities.module';
import { PropertiesModule } from '../properties/properties.module';
import { RelationshipTypesModule } from '../relationship-types/relationship-types.module';
import { RecordValueEntity } from './record-value.entity';
import { SearchService } from './search.service';

/**
 * The condition language of SPEC §8, which records, segments, linking by filter and export
 * share: it parses a query against the entity's properties and compiles it to SQL over a
 * records row; the module that owns the rows runs the statement.
 */
@Module({
  imports: [TypeOrmModule.forFeature([RecordValueEntity]), EntitiesModule, PropertiesModule, RelationshipTypesModule],
  providers: [SearchService],
  exports: [SearchService],
})
export class SearchModule {}
