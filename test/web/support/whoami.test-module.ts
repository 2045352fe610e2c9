import { Controller, Get, Module } from '@nestjs/common';
import { CurrentUser } from '../../../src/shared/auth/auth.decorators.js';
import type { Principal } from '../../../src/shared/auth/principal.js';

/** Test-only route behind the real AuthGuard: who does the API think the caller is? */
@Controller('api/v1/municipalities/:code/test/whoami')
class WhoAmIController {
  @Get()
  whoami(@CurrentUser() p: Principal): Principal {
    return p;
  }
}

@Module({ controllers: [WhoAmIController] })
export class WhoAmITestModule {}
