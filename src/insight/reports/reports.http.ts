import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { BornAbroad, ChildrenInHousehold, Gender } from '../../cases/case.events.js';
import type { ResolvedConfig } from '../../config/config.js';
import { CurrentUser, Roles } from '../../shared/auth/auth.decorators.js';
import type { Principal } from '../../shared/auth/principal.js';
import { APP_CONFIG } from '../../shared/database/database.tokens.js';
import { Problem } from '../../shared/http/problem.js';
import { ROUND_SNAPSHOTS } from '../snapshot/round-snapshot.projection.js';
import { SnapshotSource } from '../snapshot/snapshot-source.js';
import { ConsistencyQuery, DurationQuery, frameSummary, knownAtOf, KNOWN_AT_DOC, list, parseMinPosition, protectFor, required, RoundReportQuery, staffPseudonymizer } from '../insight.http-support.js';
import { assessmentConsistency, benefitDurationReport, type PersonHistory, supportByGender } from './reports.js';

/** API.md "Reports". */
@ApiTags('reports')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/reports')
export class ReportsController {
  constructor(
    private readonly source: SnapshotSource,
    @Inject(APP_CONFIG) private readonly config: ResolvedConfig,
  ) {}

  @Get('benefit-duration')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({
    summary: 'Duration of assistance for base year Y (the seed’s table)',
    description:
      'rows long_term, very_long_term, five_year, ten_year; columns total, women, men, bornInSweden, bornAbroad, childrenInHouseholds (sum of children in the counted persons’ households; ' +
      'childrenUnknown counts persons whose number is unknown). Persons, not cases: months are merged over a person’s cases and the latest case gives the background. ' +
      'Spell rule: inside the window a break longer than the allowed months starts a new spell; a person qualifies when some spell has the required months (src/reports/benefit-duration.ts). ' +
      'Computed from everything known now.',
  })
  async benefitDuration(@Param('code') code: string, @Query() q: DurationQuery, @CurrentUser() user: Principal) {
    const raw = required('year', q.year);
    if (!/^\d{4}$/.test(raw) || Number(raw) < 1990 || Number(raw) > 2100) throw Problem.badRequest('year must be a year such as 2025.', [{ path: 'year', message: 'must be a four-digit year between 1990 and 2100' }]);
    const minPosition = parseMinPosition(q.minPosition);
    const histories = await this.source.read(async (tx) => {
      const { rows } = await tx.query<{ pseudonym: string; registered_on: string; reg: { gender: Gender; bornAbroad: BornAbroad; childrenInHousehold: ChildrenInHousehold }; months: string[] }>(
        `SELECT pseudonym, to_char(registered_on, 'YYYY-MM-DD') AS registered_on, events->0->'data' AS reg, months FROM insight_cases WHERE tenant = $1`,
        [code],
      );
      return rows.map(
        (r): PersonHistory => ({ pseudonym: r.pseudonym, registeredOn: r.registered_on, gender: r.reg.gender, bornAbroad: r.reg.bornAbroad, childrenInHousehold: r.reg.childrenInHousehold, months: r.months }),
      );
    }, minPosition);
    return { projection: ROUND_SNAPSHOTS, ...benefitDurationReport(histories, Number(raw), { protect: protectFor(user), minCell: this.config.suppressionMinCell }) };
  }

  @Get('assessment-consistency')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({
    summary: 'Are assessments consistent regardless of caseworker?',
    description:
      'Per pseudonymised caseworker (staff-…, stable per municipality) the distribution of the round’s priorities and of single-choice answers, each with Pearson’s chi-square test of independence from caseworker ' +
      '(statistic, degreesOfFreedom, pValue), Cramér’s V, and lowExpectedShare (share of cells with expected count < 5: above 0.2 the test is not to be trusted). ' +
      KNOWN_AT_DOC,
  })
  async consistency(@Param('code') code: string, @Query() q: ConsistencyQuery, @CurrentUser() user: Principal) {
    const round = await this.source.round(code, required('roundId', q.roundId), parseMinPosition(q.minPosition), 'roundId');
    const frame = await this.source.frame(code, round, knownAtOf(q.knownAt));
    const questions = q.questions === undefined ? undefined : list(q.questions);
    const singles = frame.questionnaire.questions.filter((x) => x.type === 'single').map((x) => x.key);
    const bad = (questions ?? []).filter((k) => !singles.includes(k));
    if (bad.length > 0) throw Problem.badRequest(`questions: ${bad.join(', ')} are not single-choice questions of the round.`, [{ path: 'questions', message: `must be among ${singles.join(', ')}` }]);
    return {
      ...frameSummary(frame),
      ...this.source.memo([frame], `consistency|${protectFor(user)}|${this.config.suppressionMinCell}|${JSON.stringify(questions ?? null)}`, () =>
        assessmentConsistency(frame.rows, frame.questionnaire, staffPseudonymizer(this.config.pseudonymKey, code), { protect: protectFor(user), minCell: this.config.suppressionMinCell, questions }),
      ),
    };
  }

  @Get('support-by-gender')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({
    summary: 'Share of the round’s open cases with a running intervention, by gender and unit, and by provider',
    description: 'rows { gender (or all), unit (or all), cases, withInterventions, share, byProvider { municipality, employment_service, other } }. ' + KNOWN_AT_DOC,
  })
  async supportByGender(@Param('code') code: string, @Query() q: RoundReportQuery, @CurrentUser() user: Principal) {
    const round = await this.source.round(code, required('roundId', q.roundId), parseMinPosition(q.minPosition), 'roundId');
    const frame = await this.source.frame(code, round, knownAtOf(q.knownAt));
    const o = { protect: protectFor(user), minCell: this.config.suppressionMinCell };
    return { ...frameSummary(frame), ...this.source.memo([frame], `support|${JSON.stringify(o)}`, () => supportByGender(frame.rows, o)) };
  }
}
