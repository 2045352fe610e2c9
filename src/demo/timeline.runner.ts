import type { CommandBus } from '@nestjs/cqrs';
import { RecordBenefitMonthCommand, WithdrawBenefitMonthCommand } from '../cases/benefit-months/benefit-months.command.js';
import { RecordBenefitMonthsCommand } from '../cases/benefit-months/record-benefit-months.command.js';
import type { CaseCommandOutcome, CommandMeta } from '../cases/case.repository.js';
import { CloseCaseCommand } from '../cases/close-case/close-case.command.js';
import { CorrectAssessmentCommand } from '../cases/correct-assessment/correct-assessment.command.js';
import { EndInterventionCommand, StartInterventionCommand } from '../cases/interventions/interventions.command.js';
import { RecordAssessmentCommand } from '../cases/record-assessment/record-assessment.command.js';
import { RegisterCaseCommand } from '../cases/register-case/register-case.command.js';
import { ReopenCaseCommand } from '../cases/reopen-case/reopen-case.command.js';
import { SetPriorityCommand } from '../cases/set-priority/set-priority.command.js';
import { TransferCaseCommand } from '../cases/transfer-case/transfer-case.command.js';
import { CloseRoundCommand, OpenRoundCommand, type RoundCommandOutcome } from '../rounds/round.commands.js';
import type { TimelineStep } from './timeline.js';

export interface RunProgress {
  done: number;
  total: number;
}

/**
 * Plays a timeline through the CommandBus: the very handlers the HTTP API uses, so the demo
 * proves the real paths (vault, deciders, inline views, projections) and writes nothing any
 * other way.
 *
 * Order: round steps are barriers. Everything before a CloseRound is recorded before it and
 * nothing after it starts before it, because a round's frozen snapshot is "every event with a
 * position below RoundClosed". Between barriers the steps of different cases are independent (a
 * person has one case), so cases run concurrently, each case's own steps in order.
 */
export class TimelineRunner {
  private readonly caseIds = new Map<string, string>();
  private readonly roundIds = new Map<string, string>();
  private readonly interventionIds = new Map<string, string>();
  /** Highest event position written (for `minPosition` reads right after). */
  lastPosition = 0;
  commandsSent = 0;

  constructor(
    private readonly commands: CommandBus,
    private readonly municipality: string,
    private readonly options: { concurrency?: number; onProgress?: (p: RunProgress) => void } = {},
  ) {}

  async run(steps: readonly TimelineStep[]): Promise<void> {
    const total = steps.length;
    let done = 0;
    let reported = 0;
    const progress = () => {
      done++;
      if (this.options.onProgress && (done - reported >= 1000 || done === total)) {
        reported = done;
        this.options.onProgress({ done, total });
      }
    };
    let segment: TimelineStep[] = [];
    for (const step of steps) {
      if (step.command === 'OpenRound' || step.command === 'CloseRound') {
        await this.runConcurrently(segment, progress);
        segment = [];
        await this.execute(step);
        progress();
      } else {
        segment.push(step);
      }
    }
    await this.runConcurrently(segment, progress);
  }

  private async runConcurrently(steps: TimelineStep[], progress: () => void): Promise<void> {
    const byCase = new Map<string, TimelineStep[]>();
    for (const s of steps) {
      if (!('case' in s)) throw new Error(`not a case step: ${s.command}`);
      const list = byCase.get(s.case);
      if (list) list.push(s);
      else byCase.set(s.case, [s]);
    }
    const queue = [...byCase.values()];
    const worker = async () => {
      for (let list = queue.shift(); list; list = queue.shift()) {
        // A case's benefit months between two round steps (register history, the monthly
        // records) go as one command where the first of them was: the same events as one command
        // per month, in one append. Moving a month earlier within the period changes nothing a
        // reader sees (months are dated by their own month; a withdrawal still comes after its
        // month), and no round closes in between.
        const months = list.filter((s): s is Extract<TimelineStep, { command: 'RecordBenefitMonth' }> => s.command === 'RecordBenefitMonth');
        let monthsDone = false;
        for (const s of list) {
          if (s.command === 'RecordBenefitMonth') {
            if (!monthsDone) await (months.length > 1 ? this.recordMonths(months) : this.execute(s));
            monthsDone = true;
          } else {
            await this.execute(s);
          }
          progress();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency ?? 6) }, worker));
  }

  private async execute(step: TimelineStep): Promise<void> {
    this.commandsSent++;
    const meta: CommandMeta = { municipality: this.municipality, actor: step.actor };
    try {
      if (step.command === 'OpenRound' || step.command === 'CloseRound') {
        const outcome = await this.commands.execute<OpenRoundCommand | CloseRoundCommand, RoundCommandOutcome>(
          step.command === 'OpenRound' ? new OpenRoundCommand(meta, step.body) : new CloseRoundCommand({ ...meta, roundId: this.id(this.roundIds, step.round) }),
        );
        if (step.command === 'OpenRound') this.roundIds.set(step.round, outcome.roundId);
        this.lastPosition = Math.max(this.lastPosition, outcome.position);
        return;
      }
      if (step.command === 'RegisterCase') {
        const outcome = await this.commands.execute<RegisterCaseCommand, CaseCommandOutcome>(new RegisterCaseCommand(meta, step.body));
        this.caseIds.set(step.case, outcome.caseId);
        this.lastPosition = Math.max(this.lastPosition, outcome.position);
        return;
      }
      const caseMeta = { ...meta, caseId: this.id(this.caseIds, step.case) };
      const round = (key: string) => this.id(this.roundIds, key);
      let command: object;
      switch (step.command) {
        case 'RecordAssessment':
          command = new RecordAssessmentCommand(caseMeta, { ...step.body, roundId: round(step.body.roundId) });
          break;
        case 'CorrectAssessment':
          command = new CorrectAssessmentCommand({ ...caseMeta, roundId: round(step.round) }, step.body);
          break;
        case 'SetPriority':
          command = new SetPriorityCommand(caseMeta, { ...step.body, roundId: step.body.roundId === undefined ? undefined : round(step.body.roundId) });
          break;
        case 'TransferCase':
          command = new TransferCaseCommand(caseMeta, step.body);
          break;
        case 'StartIntervention':
          command = new StartInterventionCommand(caseMeta, step.body);
          break;
        case 'EndIntervention':
          command = new EndInterventionCommand({ ...caseMeta, interventionId: this.id(this.interventionIds, step.intervention) }, step.body);
          break;
        case 'RecordBenefitMonth':
          command = new RecordBenefitMonthCommand({ ...caseMeta, month: step.month });
          break;
        case 'WithdrawBenefitMonth':
          command = new WithdrawBenefitMonthCommand({ ...caseMeta, month: step.month });
          break;
        case 'CloseCase':
          command = new CloseCaseCommand(caseMeta, step.body);
          break;
        case 'ReopenCase':
          command = new ReopenCaseCommand(caseMeta, step.body);
          break;
      }
      const outcome = await this.commands.execute<object, CaseCommandOutcome & { interventionId?: string }>(command);
      if (step.command === 'StartIntervention') this.interventionIds.set(step.intervention, outcome.interventionId!);
      this.lastPosition = Math.max(this.lastPosition, outcome.position);
    } catch (e) {
      const what = `${step.at} ${step.command}${'case' in step ? ` ${step.case}` : ''}`;
      throw new Error(`Demo step refused: ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private async recordMonths(steps: Extract<TimelineStep, { command: 'RecordBenefitMonth' }>[]): Promise<void> {
    const first = steps[0]!;
    this.commandsSent++;
    try {
      const outcome = await this.commands.execute<RecordBenefitMonthsCommand, CaseCommandOutcome>(
        new RecordBenefitMonthsCommand({ municipality: this.municipality, actor: first.actor, caseId: this.id(this.caseIds, first.case), months: steps.map((s) => s.month) }),
      );
      this.lastPosition = Math.max(this.lastPosition, outcome.position);
    } catch (e) {
      throw new Error(`Demo step refused: ${first.at} RecordBenefitMonths ${first.case} (${steps.length} months): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private id(map: Map<string, string>, key: string): string {
    const id = map.get(key);
    if (!id) throw new Error(`No id for ${key} (a step ran before the one that creates it)`);
    return id;
  }
}
