import { Body, Controller, HttpCode, Module, Param, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Roles } from '../../src/shared/auth/auth.decorators.js';
import { Problem } from '../../src/shared/http/problem.js';

class Inner {
  @IsString() @MaxLength(10) label: string;
}

export class EchoRequest {
  @IsString() @MaxLength(50) name: string;
  @IsInt() @Min(0) @Max(100) count: number;
  @IsOptional() @IsInt() @Min(0) @Max(2000) delayMs?: number;
  @IsOptional() @ValidateNested() @Type(() => Inner) inner?: Inner;
}

/** Test-only routes exercising the shared HTTP plumbing before real commands exist. */
export const calls: { count: number } = { count: 0 };

@Controller('api/v1/municipalities/:code/test')
class EchoController {
  @Post('echo')
  @Roles('caseworker')
  @HttpCode(201)
  async echo(@Param('code') code: string, @Body() body: EchoRequest): Promise<unknown> {
    if (body.delayMs) await new Promise((r) => setTimeout(r, body.delayMs));
    calls.count++;
    return { code, name: body.name, count: body.count, call: calls.count };
  }

  @Post('conflict')
  @Roles('caseworker')
  conflict(): never {
    throw Problem.conflict('test-conflict', 'always conflicts');
  }

  @Post('boom')
  @Roles('caseworker')
  boom(): never {
    throw new Error('secret internal detail at /srv/app.ts:42');
  }
}

@Module({ controllers: [EchoController] })
export class EchoTestModule {}
