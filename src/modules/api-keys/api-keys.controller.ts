import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { PageQueryDto } from '../../common/http/pagination';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyResponse, CreatedApiKeyResponse } from './dto/api-key.response';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { ApiKeyParamPipe } from './api-key-param.pipe';

@ApiTags('api-keys')
@Roles('DEVELOPER')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @ApiDoc('Create an API key', {
    description: 'A key for the calling member, with `role` at most the caller’s (default: the caller’s). The secret is in this answer only: store it now.',
    created: CreatedApiKeyResponse,
    errors: { 403: 'Forbidden: the key’s role is too low for this route, or below the role asked for.' },
  })
  @Post()
  @Header('Cache-Control', 'no-store') // the answer holds the secret: no browser or proxy may keep it
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateApiKeyDto) {
    return this.apiKeys.create(caller, dto);
  }

  @ApiDoc('List API keys', { description: 'Every key of the account, revoked ones with `dateRevoked`, oldest first; never a secret.', page: ApiKeyResponse })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() page: PageQueryDto) {
    return this.apiKeys.list(caller.accountId, page);
  }

  @ApiDoc('Revoke an API key', {
    description: 'Its signatures stop working at once, on every instance. Revoking twice answers the same key.',
    ok: ApiKeyResponse,
    errors: { 403: 'Forbidden: the key belongs to another member whose role is above the caller’s.', 404: 'No such key in the account.' },
  })
  @Delete(':apiKey')
  @HttpCode(200)
  revoke(@Auth() caller: AuthenticatedCaller, @Param('apiKey', ApiKeyParamPipe) apiKey: string) {
    return this.apiKeys.revoke(caller, apiKey);
  }
}
