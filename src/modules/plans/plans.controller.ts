import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { PlanResponse } from './dto/plan.response';
import { PlansService } from './plans.service';

@ApiTags('plans')
@Roles('VIEWER')
@Controller('plans')
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  @ApiDoc('The caller’s plan', {
    description: 'The account’s tier, its effective limits (`null`: unlimited), current usage and the limits an operator overrode. See docs/plans.md.',
    ok: PlanResponse,
  })
  @Get('me')
  me(@Auth() caller: AuthenticatedCaller) {
    return this.plans.forAccount(caller.accountId);
  }
}
