import { Global, Module } from '@nestjs/common';
import { QuotaInterceptor } from './quota.interceptor';
import { QuotaService } from './quota.service';

@Global()
@Module({ providers: [QuotaService, QuotaInterceptor], exports: [QuotaService, QuotaInterceptor] })
export class QuotaModule {}
