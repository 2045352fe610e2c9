import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../../shared/auth/auth.decorators.js';
import type { Principal } from '../../shared/auth/principal.js';
import { Problem } from '../../shared/http/problem.js';
import { AccessLog, type AccessLogItem } from '../../shared/privacy/access-log.js';
import { isCalendarDate } from '../../shared/time/calendar.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const INSTANT_OR_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export class AccessLogQueryDto {
  @ApiPropertyOptional({ description: 'From (inclusive): a date YYYY-MM-DD (its start in Europe/Stockholm) or a timestamp with offset.' })
  @IsOptional()
  @Matches(INSTANT_OR_DATE, { message: 'from must be a date YYYY-MM-DD or an ISO 8601 timestamp with offset' })
  from?: string;

  @ApiPropertyOptional({ description: 'To: a date YYYY-MM-DD (that whole day included) or a timestamp with offset (exclusive).' })
  @IsOptional()
  @Matches(INSTANT_OR_DATE, { message: 'to must be a date YYYY-MM-DD or an ISO 8601 timestamp with offset' })
  to?: string;

  @ApiPropertyOptional({ description: 'Only reads by this user (token `sub`).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  userId?: string;

  @ApiPropertyOptional({ description: 'Only reads of this case.' })
  @IsOptional()
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'caseId must be a case id (uuid)' })
  caseId?: string;

  @ApiPropertyOptional({ description: '1–500, default 50' })
  @IsOptional()
  @Matches(/^\d{1,3}$/, { message: 'limit must be an integer from 1 to 500' })
  limit?: string;

  @ApiPropertyOptional({ description: 'Opaque, from nextCursor' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

/**
 * The access log for admins (API.md "Administration"): who read which individual's data, when
 * and why, newest first. Reading it is itself logged (before the search, so the admin's own read
 * is the newest entry). The log holds no personnummer: people appear as case id and pseudonym.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/admin/access-log')
@Roles('admin')
export class AccessLogController {
  constructor(private readonly log: AccessLog) {}

  @Get()
  @ApiOperation({ summary: 'Search the access log (reads of individual data, erasures) of the municipality' })
  @ApiResponse({ status: 200, description: '{ items: [{ id, at, municipality, userId, roles, caseId, pseudonym, endpoint, purpose, requestId }], nextCursor }' })
  async search(@Param('code') code: string, @Query() q: AccessLogQueryDto, @CurrentUser() user: Principal, @Req() req: FastifyRequest): Promise<{ items: AccessLogItem[]; nextCursor: string | null }> {
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (limit < 1 || limit > 500) throw Problem.badRequest('limit must be 1–500', [{ path: 'limit', message: 'must be an integer from 1 to 500' }]);
    const from = q.from === undefined ? undefined : instant(q.from, 'from', 'start');
    const to = q.to === undefined ? undefined : instant(q.to, 'to', 'end');
    if (from && to && from >= to) throw Problem.badRequest('from must be before to', [{ path: 'from', message: 'must be before to' }]);
    await this.log.record({ ...AccessLog.context(req, user, code), caseId: null, pseudonym: null });
    return this.log.search({ municipality: code, from, to, userId: q.userId, caseId: q.caseId?.toLowerCase(), limit, cursor: q.cursor });
  }
}

/** A timestamp as given, or a Stockholm calendar day's start (`start`) or the next day's start (`end`). */
function instant(value: string, param: string, edge: 'start' | 'end'): Date {
  const bad = () => Problem.badRequest(`${param} is not a valid date or timestamp.`, [{ path: param, message: 'must be a real date YYYY-MM-DD or an ISO 8601 timestamp with offset' }]);
  if (TIMESTAMP.test(value)) {
    const at = new Date(value);
    if (Number.isNaN(at.getTime()) || !isCalendarDate(value.slice(0, 10))) throw bad();
    return at;
  }
  if (!isCalendarDate(value)) throw bad();
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  return stockholmMidnight(y, m, d + (edge === 'end' ? 1 : 0));
}

/** 00:00 in Europe/Stockholm on that day (day may overflow into the next month). */
function stockholmMidnight(y: number, m: number, d: number): Date {
  const utcMidnight = Date.UTC(y, m - 1, d);
  // Sweden changes clocks at 01:00 UTC, never at local midnight, so the offset at UTC midnight is the one at local midnight.
  const name = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Stockholm', timeZoneName: 'longOffset' })
    .formatToParts(new Date(utcMidnight))
    .find((p) => p.type === 'timeZoneName')!.value;
  const o = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  const offsetMs = o ? (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3])) * 60_000 : 0;
  return new Date(utcMidnight - offsetMs);
}
