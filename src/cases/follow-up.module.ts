import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ProjectionEngine } from '../shared/projections/projection-engine.js';
import { QuestionnairesController, PublishQuestionnaireHandler } from '../questionnaires/questionnaires.http.js';
import { MunicipalityStreams } from '../rounds/municipality-streams.js';
import { CloseRoundHandler, OpenRoundHandler } from '../rounds/round.commands.js';
import { RoundProgressService } from '../rounds/round-progress.js';
import { RoundsController } from '../rounds/rounds.http.js';
import { UnitsController } from '../units/units.http.js';
import { CaseRepository } from './case.repository.js';
import { CaseResponder } from './case.response.js';
import { CasesController } from './cases.http.js';
import { CaseListService } from './list-cases/list-cases.query.js';
import { caseListProjection } from './projections/case-list.projection.js';
import { openCasesProjection } from './projections/open-cases.projection.js';
import { roundGuardProjection } from './projections/round-guard.projection.js';
import { RecordBenefitMonthHandler, WithdrawBenefitMonthHandler } from './benefit-months/benefit-months.command.js';
import { RecordBenefitMonthsHandler } from './benefit-months/record-benefit-months.command.js';
import { CloseCaseHandler } from './close-case/close-case.command.js';
import { CorrectAssessmentHandler } from './correct-assessment/correct-assessment.command.js';
import { EndInterventionHandler, StartInterventionHandler } from './interventions/interventions.command.js';
import { RecordAssessmentHandler } from './record-assessment/record-assessment.command.js';
import { RegisterCaseHandler } from './register-case/register-case.command.js';
import { ReopenCaseHandler } from './reopen-case/reopen-case.command.js';
import { SetPriorityHandler } from './set-priority/set-priority.command.js';
import { TransferCaseHandler } from './transfer-case/transfer-case.command.js';
import { BenefitMonthImportController, BenefitMonthImporter } from './benefit-months/benefit-month-import.js';

export const FOLLOW_UP_PROJECTIONS = [openCasesProjection, roundGuardProjection, caseListProjection];

/**
 * What caseworkers do every day: cases, rounds, questionnaires and the reference data, with the
 * projections their commands and lists rely on.
 */
@Module({
  imports: [CqrsModule],
  controllers: [UnitsController, QuestionnairesController, RoundsController, CasesController, BenefitMonthImportController],
  providers: [
    CaseRepository,
    CaseResponder,
    CaseListService,
    MunicipalityStreams,
    RoundProgressService,
    BenefitMonthImporter,
    RegisterCaseHandler,
    RecordAssessmentHandler,
    CorrectAssessmentHandler,
    SetPriorityHandler,
    TransferCaseHandler,
    StartInterventionHandler,
    EndInterventionHandler,
    RecordBenefitMonthHandler,
    RecordBenefitMonthsHandler,
    WithdrawBenefitMonthHandler,
    CloseCaseHandler,
    ReopenCaseHandler,
    OpenRoundHandler,
    CloseRoundHandler,
    PublishQuestionnaireHandler,
  ],
  exports: [CaseRepository, MunicipalityStreams, CaseResponder],
})
export class FollowUpModule implements OnModuleInit {
  constructor(private readonly projections: ProjectionEngine) {}

  async onModuleInit(): Promise<void> {
    await this.projections.register(...FOLLOW_UP_PROJECTIONS);
  }
}
