import { Controller, HttpCode, Injectable, Param, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../../shared/auth/auth.decorators.js';
import type { Principal } from '../../shared/auth/principal.js';
import type { FieldError } from '../../shared/http/problem.js';
import { Problem } from '../../shared/http/problem.js';
import { parsePersonalIdentityNumber } from '../../shared/privacy/personal-identity-number.js';
import { PersonVault } from '../../shared/privacy/vault.js';
import { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { isYearMonth, stockholmDate } from '../../shared/time/calendar.js';
import type { CaseCommandOutcome } from '../case.repository.js';
import { RecordBenefitMonthCommand } from './benefit-months.command.js';

const MAX_ROWS = 10_000;

export interface ImportRowResult {
  row: number;
  month: string;
  status: 'recorded' | 'already_recorded' | 'unknown_person' | 'rejected';
  caseId?: string;
  detail?: string;
}

/**
 * Benefit months from the payment system, as CSV (`personalIdentityNumber,month`, header
 * optional) or NDJSON (`{"personalIdentityNumber": "…", "month": "YYYY-MM"}` per line).
 * Malformed rows reject the whole file (400, every bad row named, nothing written); rows for
 * people without a case are reported, never dropped silently.
 */
@Injectable()
export class BenefitMonthImporter {
  constructor(
    private readonly commands: CommandBus,
    private readonly vault: PersonVault,
    private readonly projections: ProjectionEngine,
  ) {}

  parse(contentType: string, body: string): { pin: string; month: string }[] {
    const lines = body.split(/\r?\n/).map((l) => l.trim());
    const rows: { pin: string; month: string }[] = [];
    const errors: FieldError[] = [];
    const today = stockholmDate();
    const ndjson = /ndjson|jsonl/.test(contentType);
    lines.forEach((line, i) => {
      if (line === '' || (!ndjson && i === 0 && /personalIdentityNumber/i.test(line))) return;
      let pin: unknown;
      let month: unknown;
      if (ndjson) {
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error();
          const extra = Object.keys(o).filter((k) => k !== 'personalIdentityNumber' && k !== 'month');
          if (extra.length > 0) errors.push({ path: `rows[${i + 1}]`, message: `unknown field(s) ${extra.join(', ')}` });
          pin = o.personalIdentityNumber;
          month = o.month;
        } catch {
          errors.push({ path: `rows[${i + 1}]`, message: 'is not a JSON object' });
          return;
        }
      } else {
        const cells = line.split(/[,;]/).map((c) => c.trim().replace(/^"|"$/g, ''));
        if (cells.length !== 2) {
          errors.push({ path: `rows[${i + 1}]`, message: 'must have two columns: personalIdentityNumber,month' });
          return;
        }
        [pin, month] = cells;
      }
      const parsed = parsePersonalIdentityNumber(pin, today);
      if (!parsed.ok) errors.push({ path: `rows[${i + 1}].personalIdentityNumber`, message: parsed.error });
      if (!isYearMonth(month)) errors.push({ path: `rows[${i + 1}].month`, message: 'must be a month written YYYY-MM' });
      if (parsed.ok && isYearMonth(month)) rows.push({ pin: parsed.value.normalized, month });
    });
    if (errors.length > 0) throw Problem.validation(errors.slice(0, 1000));
    if (rows.length === 0) throw Problem.badRequest('The file has no rows.', [{ path: 'rows', message: 'no rows' }]);
    if (rows.length > MAX_ROWS) throw Problem.badRequest(`At most ${MAX_ROWS} rows per request.`, [{ path: 'rows', message: `more than ${MAX_ROWS} rows` }]);
    return rows;
  }

  async import(code: string, user: Principal, rows: { pin: string; month: string }[], correlationId: string) {
    const results: ImportRowResult[] = [];
    let position = 0;
    for (const [i, r] of rows.entries()) {
      const pseudonym = this.vault.pseudonym(code, r.pin);
      const caseId = await this.projections.read('open_cases', async (tx) => {
        const { rows: found } = await tx.query<{ case_id: string }>(
          // The open case if there is one, else the person's latest case (months arrive after closure too).
          `SELECT p.case_id FROM case_persons p LEFT JOIN open_cases o ON o.case_id = p.case_id
            WHERE p.municipality = $1 AND p.pseudonym = $2 ORDER BY (o.case_id IS NOT NULL) DESC, p.case_id LIMIT 1`,
          [code, pseudonym],
        );
        return found[0]?.case_id;
      });
      if (!caseId) {
        results.push({ row: i + 1, month: r.month, status: 'unknown_person', detail: 'No case for this person in the municipality.' });
        continue;
      }
      try {
        const outcome = await this.commands.execute<RecordBenefitMonthCommand, CaseCommandOutcome>(
          new RecordBenefitMonthCommand({ municipality: code, actor: user.userId, caseId, month: r.month, correlationId }),
        );
        position = Math.max(position, outcome.position);
        results.push({ row: i + 1, month: r.month, caseId, status: outcome.recorded.length > 0 ? 'recorded' : 'already_recorded' });
      } catch (e) {
        results.push({ row: i + 1, month: r.month, caseId, status: 'rejected', detail: e instanceof Error ? e.message : 'rejected' });
      }
    }
    const count = (s: ImportRowResult['status']) => results.filter((r) => r.status === s).length;
    return {
      summary: { rows: results.length, recorded: count('recorded'), alreadyRecorded: count('already_recorded'), unknownPerson: count('unknown_person'), rejected: count('rejected') },
      position,
      items: results,
    };
  }
}

@ApiTags('cases')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/benefit-months')
export class BenefitMonthImportController {
  constructor(private readonly importer: BenefitMonthImporter) {}

  @Post('import')
  @HttpCode(200)
  @Roles('caseworker')
  @ApiOperation({ summary: 'Import benefit months (CSV or NDJSON: personalIdentityNumber, month) with a result per row' })
  @ApiConsumes('text/csv', 'application/x-ndjson')
  @ApiBody({ schema: { type: 'string', example: 'personalIdentityNumber,month\n19850312-2387,2026-01\n' } })
  async import(@Param('code') code: string, @CurrentUser() user: Principal, @Req() req: FastifyRequest) {
    const contentType = String(req.headers['content-type'] ?? '');
    if (!/^(text\/csv|application\/(x-)?ndjson|application\/jsonl)/.test(contentType) || typeof req.body !== 'string') {
      throw new Problem(415, 'unsupported-media-type', 'Send text/csv or application/x-ndjson.');
    }
    const rows = this.importer.parse(contentType, req.body);
    const result = await this.importer.import(code, user, rows, String(req.id));
    return result;
  }
}
