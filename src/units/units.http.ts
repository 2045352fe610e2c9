import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../shared/auth/auth.decorators.js';
import { UNITS } from './units.js';

@ApiTags('reference data')
@Controller('api/v1/units')
export class UnitsController {
  @Get()
  @Public()
  @ApiOperation({ summary: 'The four units of "Vägen till hållbar egen försörjning"' })
  list(): { items: { code: string; name: string }[] } {
    return { items: UNITS.map((u) => ({ code: u.code, name: u.name })) };
  }
}
