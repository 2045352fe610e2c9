import { type QuestionnairesState, questionnaireVersion } from '../questionnaires/questionnaire.decider.js';
import type { Round } from '../rounds/round.decider.js';
import type { RoundInfo } from './case.decider.js';

/**
 * What the case decider needs to know about a round, from the municipality's rounds and
 * questionnaires streams. `undefined` when there is no such round (the decider answers 404).
 */
export function roundInfo(round: Round | undefined, questionnaires: QuestionnairesState): RoundInfo | undefined {
  if (!round) return undefined;
  const questionnaire = questionnaireVersion(questionnaires, round.questionnaireVersion);
  // A round is only opened with a version the municipality has, and versions are never removed.
  if (!questionnaire) throw new Error(`Round ${round.roundId} uses questionnaire ${round.questionnaireVersion}, which does not exist`);
  return { roundId: round.roundId, status: round.status, referenceDate: round.referenceDate, questionnaire };
}
