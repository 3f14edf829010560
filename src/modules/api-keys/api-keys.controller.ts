import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { PageQueryDto } from '../../common/http/pagination';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { ApiKeyParamPipe } from './api-key-param.pipe';

@ApiTags('api-keys')
@Roles('DEVELOPER')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  /** Creates a key for the calling member; the secret is in this answer only. */
  @Post()
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateApiKeyDto) {
    return this.apiKeys.create(caller, dto);
  }

  /** The account's keys, never their secrets. */
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() page: PageQueryDto) {
    return this.apiKeys.list(caller.accountId, page);
  }

  /** Revokes a key: its signatures stop working at once, on every instance. */
  @Delete(':apiKey')
  @HttpCode(200)
  revoke(@Auth() caller: AuthenticatedCaller, @Param('apiKey', ApiKeyParamPipe) apiKey: string) {
    return this.apiKeys.revoke(caller, apiKey);
  }
}
