import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ResolvedConfig } from '../../config/config.js';
import { CurrentUser, Roles } from '../../shared/auth/auth.decorators.js';
import type { Principal } from '../../shared/auth/principal.js';
import { APP_CONFIG } from '../../shared/database/database.tokens.js';
import { Problem } from '../../shared/http/problem.js';
import { FlowQuery, frameSummary, JourneysQuery, knownAtOf, KNOWN_AT_DOC, list, parseMinPosition, protectFor, required, roundSummary } from '../insight.http-support.js';
import type { RoundRow } from '../snapshot/round-snapshot.projection.js';
import { type SnapshotFrame, SnapshotSource } from '../snapshot/snapshot-source.js';
import { flows, flowsByPriority, journeys } from './flows.js';

/** Flow through "Vägen till hållbar egen försörjning" (API.md "Flow"), from the rounds' snapshots. */
@ApiTags('flows')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/flows')
export class FlowsController {
  constructor(
    private readonly source: SnapshotSource,
    @Inject(APP_CONFIG) private readonly config: ResolvedConfig,
  ) {}

  @Get()
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({
    summary: 'Sankey-ready flow between two rounds',
    description:
      'nodes (side source: the four units and `new`; side target: the units and `closed:<reason>`) with totals, and links { source, target, count } (non-zero only). ' +
      'The links out of each unit add up to the first snapshot’s open cases there, those into each unit to the second’s. ' +
      KNOWN_AT_DOC,
  })
  async flow(@Param('code') code: string, @Query() q: FlowQuery, @CurrentUser() user: Principal) {
    const [a, b] = await this.pair(code, q);
    return { from: frameSummary(a), to: frameSummary(b), ...this.source.memo([a, b], `flows|${JSON.stringify(this.protection(user))}`, () => flows(a.rows, b.rows, this.protection(user))) };
  }

  @Get('by-priority')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({
    summary: 'Destination at the second round by priority at the first',
    description: 'rows { priority (null: none set in the round), target, count }, totals per priority, and a chi-square test of independence of destination from priority. ' + KNOWN_AT_DOC,
  })
  async byPriority(@Param('code') code: string, @Query() q: FlowQuery, @CurrentUser() user: Principal) {
    const [a, b] = await this.pair(code, q);
    return { from: frameSummary(a), to: frameSummary(b), ...this.source.memo([a, b], `by-priority|${JSON.stringify(this.protection(user))}`, () => flowsByPriority(a.rows, b.rows, this.protection(user))) };
  }

  @Get('journeys')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({
    summary: 'Frequency of each sequence of units over several rounds, per person',
    description: 'items { units: per round the unit, `closed:<reason>` or null (no case yet), count }, most frequent first; every person open in at least one of the rounds counts once. ' + KNOWN_AT_DOC,
  })
  async journeys(@Param('code') code: string, @Query() q: JourneysQuery, @CurrentUser() user: Principal) {
    const ids = list(required('rounds', q.rounds));
    if (ids.length < 2 || ids.length > 20) throw Problem.badRequest('rounds must name 2 to 20 rounds.', [{ path: 'rounds', message: 'must be 2 to 20 comma-separated round ids' }]);
    const minPosition = parseMinPosition(q.minPosition);
    const rounds: RoundRow[] = await this.source.roundsById(code, ids, minPosition, 'rounds');
    rounds.sort((x, y) => (x.referenceDate < y.referenceDate ? -1 : x.referenceDate > y.referenceDate ? 1 : 0));
    const knownAt = knownAtOf(q.knownAt);
    const frames: SnapshotFrame[] = [];
    for (const r of rounds) frames.push(await this.source.frame(code, r, knownAt ?? this.source.defaultKnownAt(r)));
    return { rounds: rounds.map(roundSummary), knownAt: frames.map((f) => f.knownAt), ...this.source.memo(frames, `journeys|${JSON.stringify(this.protection(user))}`, () => journeys(frames.map((f) => f.rows), this.protection(user))) };
  }

  private protection(user: Principal) {
    return { protect: protectFor(user), minCell: this.config.suppressionMinCell };
  }

  private async pair(code: string, q: FlowQuery) {
    const minPosition = parseMinPosition(q.minPosition);
    const [fromId, toId] = [required('fromRound', q.fromRound), required('toRound', q.toRound)];
    const [from, to] = (await this.source.roundsById(code, [fromId, toId], minPosition, ['fromRound', 'toRound'])) as [RoundRow, RoundRow];
    if (to.referenceDate <= from.referenceDate) {
      throw Problem.badRequest('toRound must have a later reference date than fromRound.', [{ path: 'toRound', message: `its reference date ${to.referenceDate} is not after ${from.referenceDate}` }]);
    }
    const knownAt = knownAtOf(q.knownAt);
    return Promise.all([this.source.frame(code, from, knownAt ?? this.source.defaultKnownAt(from)), this.source.frame(code, to, knownAt ?? this.source.defaultKnownAt(to))]);
  }
}
