import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, UploadedFile } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { MultipartBody } from '../../common/http/json-body';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { ImportRequestResponse, ImportStatusResponse, RequestImportDto } from './dto/import.dto';
import { IMPORT_MAX_BYTES, ImportsService, type UploadedImportFile } from './imports.service';

@ApiTags('imports')
@Roles('VIEWER')
@Controller('records/import')
export class ImportsController {
  constructor(private readonly imports: ImportsService) {}

  @ApiDoc('Import records from a file', {
    description:
      'A CSV (UTF-8, with or without a BOM) or .xlsx file of at most 10 MB (`413` above), its columns mapped to `name`, `tags` or properties; `CREATE` or `UPSERT` by `matchBy`; `dryRun` writes nothing and reports what would happen. Answers `202 { jobId }` at once; a job on the queue reads the file. docs/import.md has the rules.',
    created: ImportRequestResponse,
    errors: { 400: 'No file, a file neither CSV nor .xlsx, a mapping to something the entity does not have, or UPSERT without a mapped `matchBy`.', 404: 'No such entity in the account.' },
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file', 'entityId', 'columnMappings'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'CSV or .xlsx, at most 10 MB.' },
        entityId: { type: 'string', example: 'CRMET1260423091530123CNT11122233' },
        columnMappings: { type: 'string', example: '{"이름":"name","태그":"tags"}' },
        mode: { type: 'string', enum: ['CREATE', 'UPSERT'], default: 'CREATE' },
        matchBy: { type: 'string', description: 'UPSERT: a mapped property ID.' },
        dryRun: { type: 'string', enum: ['true', 'false'], default: 'false' },
      },
    },
  })
  @Post()
  @Roles('MEMBER')
  @HttpCode(HttpStatus.ACCEPTED)
  @MultipartBody({ file: 'file', limits: { fileSize: IMPORT_MAX_BYTES, files: 1, fields: 10, fieldSize: 256 * 1024, parts: 12 } })
  request(@Auth() caller: AuthenticatedCaller, @UploadedFile() file: UploadedImportFile | undefined, @Body() dto: RequestImportDto) {
    return this.imports.request(caller.accountId, caller.memberId, file, dto);
  }

  @ApiDoc('An import’s state and report', {
    description: '`processed` moves while it runs; `created`, `updated`, `failed` and the first 1,000 row errors (`row` from 1, the header not counted; `column` the header; `errorCode`, `errorMessage`).',
    ok: ImportStatusResponse,
    errors: { 404: 'No such import in the account.' },
  })
  @Get(':jobId')
  status(@Auth() caller: AuthenticatedCaller, @Param('jobId', new IdParamPipe('job')) jobId: string) {
    return this.imports.status(caller.accountId, jobId);
  }
}
