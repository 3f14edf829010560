import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '../../common/auth/public.decorator';
import { errors } from '../../common/errors/app.exception';

const DATABASE_CHECK_TIMEOUT_MS = 2_000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  private ping?: Promise<'up' | 'down'>;

  constructor(private readonly dataSource: DataSource) {}

  @ApiOperation({ summary: 'Health of the process and its database', description: 'No signature. 200 while the process and its database answer; 503 (the error envelope plus the same fields) while the database does not.' })
  @ApiResponse({ status: 200, description: 'Up.', schema: { example: { status: 'ok', database: 'up', uptimeSeconds: 42 } } })
  @ApiResponse({
    status: 503,
    description: 'The database does not answer.',
    schema: { example: { errorCode: 'ServiceUnavailable', errorMessage: '…', status: 'unavailable', database: 'down', uptimeSeconds: 42 } },
  })
  @Public()
  @Get()
  async check(@Res({ passthrough: true }) res: Response) {
    const database = await this.pingDatabase();
    const body = { status: database === 'up' ? 'ok' : 'unavailable', database, uptimeSeconds: Math.round(process.uptime()) };
    if (database === 'up') return body;
    res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { ...errors.unavailable().toBody(), ...body };
  }

  /**
   * Health checks that arrive while a ping is on its way share its answer: under a burst of
   * checks (load balancers, monitors) one round trip answers them all, instead of one each
   * competing with the API's own queries for the pool.
   */
  private pingDatabase(): Promise<'up' | 'down'> {
    this.ping ??= this.pingOnce().finally(() => (this.ping = undefined));
    return this.ping;
  }

  private async pingOnce(): Promise<'up' | 'down'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), DATABASE_CHECK_TIMEOUT_MS)));
    const ping = this.dataSource.query('SELECT 1').then(
      () => 'up' as const,
      () => 'down' as const,
    );
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
