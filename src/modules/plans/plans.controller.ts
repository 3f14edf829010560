import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { PlansService } from './plans.service';

@ApiTags('plans')
@Roles('VIEWER')
@Controller('plans')
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  /** The account's tier, effective limits, current usage and overrides. */
  @Get('me')
  me(@Auth() caller: AuthenticatedCaller) {
    return this.plans.forAccount(caller.accountId);
  }
}
