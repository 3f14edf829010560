import { Body, Controller, Get, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { IsString, Length } from 'class-validator';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Public } from '../../common/auth/public.decorator';
import { Roles } from '../../common/auth/roles';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { errorResponse } from '../../common/openapi/error-responses';
import { ExportRequestResponse, ExportStatusResponse, RequestExportDto } from './dto/export.dto';
import { ExportsService } from './exports.service';

const JobId = () => Param('jobId', new IdParamPipe('job'));

class DownloadQueryDto {
  @IsString() @Length(1, 200)
  token: string;
}

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', excel: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;
const EXTENSIONS = { csv: 'csv', excel: 'xlsx' } as const;

@ApiTags('exports')
@Roles('VIEWER')
@Controller('records/export')
export class ExportsController {
  constructor(private readonly exports: ExportsService) {}

  @ApiDoc('Export records', {
    description:
      'The entity’s records that match (the same `keyword`, `filters`, `conditionGroup` and `segmentId` as search), as CSV or .xlsx, in one consistent snapshot. Up to 10,000 records: `200` with the file ready (`mode: sync`); more: `202` (`mode: async`) and a job any instance runs, followed with `GET /records/export/{jobId}/status`. The link works without a signature for one hour. At most 2 exports of an account wait or run at once (`429`). docs/export.md has the file format.',
    ok: ExportRequestResponse,
    errors: { 400: 'A fault of the question (its JSON path named) or a property that is not the entity’s.', 404: 'No such entity or segment in the account.', 429: 'TooManyRequests: two exports of the account are already waiting or running.' },
  })
  @ApiResponse({ status: 202, description: 'More than 10,000 records: the export runs as a job.', type: ExportRequestResponse })
  @Post('request')
  @Roles('MEMBER')
  async request(@Auth() caller: AuthenticatedCaller, @Body() dto: RequestExportDto, @Res({ passthrough: true }) res: Response) {
    const { sync, body } = await this.exports.request(caller.accountId, caller.memberId, dto);
    res.status(sync ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return body;
  }

  @ApiDoc('An export’s state', {
    description: '`processed` and `total` move while it runs (a progress bar); `downloadUrl` and `expiresAt` once it is COMPLETED; EXPIRED after the hour, when the file is gone.',
    ok: ExportStatusResponse,
    errors: { 404: 'No such export in the account.' },
  })
  @Get(':jobId/status')
  status(@Auth() caller: AuthenticatedCaller, @JobId() jobId: string) {
    return this.exports.status(caller.accountId, jobId);
  }

  @ApiOperation({
    summary: 'Download an export',
    description: 'No signature: the `token` of the `downloadUrl` is bound to this export. `404` for a wrong token or an export not finished, `410 Gone` once the hour is over.',
  })
  @ApiProduces(CONTENT_TYPES.csv, CONTENT_TYPES.excel)
  @ApiQuery({ name: 'token', required: true, description: 'From `downloadUrl`.' })
  @ApiResponse({ status: 200, description: 'The file.', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 404, ...errorResponse(404, 'No such export, a wrong token, or the export is not finished.') })
  @ApiResponse({ status: 410, ...errorResponse(410, 'Gone: the link has expired.') })
  @Public()
  @Get(':jobId/download')
  async download(@JobId() jobId: string, @Query() query: DownloadQueryDto, @Res() res: Response) {
    const { job, chunks } = await this.exports.download(jobId, query.token);
    res.status(200);
    res.setHeader('Content-Type', CONTENT_TYPES[job.format]);
    res.setHeader('Content-Disposition', `attachment; filename="export-${job.jobId}.${EXTENSIONS[job.format]}"`);
    if (job.fileBytes) res.setHeader('Content-Length', job.fileBytes);
    res.setHeader('Cache-Control', 'no-store');
    for await (const chunk of chunks) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  }
}
