/**
 * A questionnaire is a versioned list of questions; a round uses one version, and old rounds
 * keep theirs when questions change (DOMAIN.md). Version 1 is built in and is every
 * municipality's default; a municipality publishes later versions as events
 * (questionnaire.decider.ts).
 *
 * Every question offers `unknown` ("Vet ej") on purpose: not knowing is data, never an empty
 * field.
 */
export type QuestionType = 'single' | 'multi';

export interface QuestionOption {
  code: string;
  /** Swedish label shown to caseworkers. */
  label: string;
}

export interface Question {
  /** Stable camelCase key; also a column name in exports and a crosstab key. */
  key: string;
  label: string;
  type: QuestionType;
  options: QuestionOption[];
}

export interface Questionnaire {
  version: number;
  questions: Question[];
}

/** `single` → one option code; `multi` → an array of codes. */
export type AnswerValue = string | string[];
export type Answers = Record<string, AnswerValue>;

export const UNKNOWN = 'unknown';
/** In a `multi` question, `none` ("nothing of these") cannot be combined with other codes. */
export const NONE = 'none';

/**
 * Keys that mean something else in crosstabs and exports (API.md: crosstab keys are question
 * keys or these; panel exports put answers beside these columns), so no question may use them.
 */
export const RESERVED_QUESTION_KEYS: readonly string[] = [
  'gender', 'unit', 'priority', 'bornAbroad', 'ageGroup', 'hasChildren',
  'pseudonym', 'municipality', 'roundId', 'round', 'referenceDate', 'status', 'closureReason',
  'birthYear', 'childrenInHousehold', 'activeInterventions', 'benefitMonthsLast12', 'longTerm',
  'veryLongTerm', 'firstRound',
];

const unknownOption: QuestionOption = { code: UNKNOWN, label: 'Vet ej' };

const single = (key: string, label: string, options: [string, string][]): Question => ({
  key,
  label,
  type: 'single',
  options: [...options.map(([code, l]) => ({ code, label: l })), unknownOption],
});
const multi = (key: string, label: string, options: [string, string][]): Question => ({ ...single(key, label, options), type: 'multi' });

const healthOptions: [string, string][] = [
  ['no_problems', 'Inga problem'],
  ['some_problems', 'Vissa problem'],
  ['severe_problems', 'Allvarliga problem'],
];

/** Version 1, exactly as API.md ("Reference data"). */
export const QUESTIONNAIRE_V1: Questionnaire = {
  version: 1,
  questions: [
    single('education', 'Högsta avslutade utbildning', [
      ['none', 'Ingen avslutad utbildning'],
      ['compulsory', 'Grundskola'],
      ['upper_secondary', 'Gymnasieskola'],
      ['post_secondary', 'Eftergymnasial utbildning'],
    ]),
    single('previousWork', 'Tidigare arbetslivserfarenhet', [
      ['never', 'Har aldrig arbetat'],
      ['under_1_year', 'Mindre än 1 år'],
      ['1_to_5_years', '1–5 år'],
      ['over_5_years', 'Mer än 5 år'],
    ]),
    multi('workObstacles', 'Hinder för arbete', [
      ['none', 'Inga hinder'],
      ['physical_health', 'Fysisk ohälsa'],
      ['mental_health', 'Psykisk ohälsa'],
      ['substance_abuse', 'Missbruk'],
      ['language', 'Språk'],
      ['childcare', 'Barnomsorg'],
      ['housing', 'Bostad'],
      ['other', 'Annat'],
    ]),
    single('physicalHealth', 'Fysisk hälsa', healthOptions),
    single('mentalHealth', 'Psykisk hälsa', healthOptions),
    single('substanceAbuse', 'Missbruk', [
      ['never', 'Aldrig'],
      ['previous', 'Tidigare'],
      ['active', 'Aktivt'],
    ]),
    single('sickCertificate', 'Har sjukintyg', [
      ['yes', 'Ja'],
      ['no', 'Nej'],
    ]),
    single('sicknessBenefitApplication', 'Ansökan om sjukpenning', [
      ['not_applied', 'Har inte ansökt'],
      ['pending', 'Under handläggning'],
      ['granted', 'Beviljad'],
      ['rejected', 'Avslag'],
    ]),
    multi('currentActivity', 'Pågående sysselsättning', [
      ['none', 'Ingen'],
      ['studies', 'Studier'],
      ['municipal_programme', 'Kommunalt arbetsmarknadsprogram'],
      ['employment_service_programme', 'Program via Arbetsförmedlingen'],
      ['rehabilitation', 'Rehabilitering'],
      ['part_time_work', 'Deltidsarbete'],
      ['other', 'Annat'],
    ]),
    single('registeredWithEmploymentService', 'Inskriven på Arbetsförmedlingen', [
      ['registered', 'Inskriven'],
      ['deregistered_last_12_months', 'Avaktualiserad under de senaste 12 månaderna'],
      ['never_registered', 'Aldrig inskriven'],
    ]),
    multi('otherBenefits', 'Andra ersättningar', [
      ['none', 'Inga'],
      ['sickness_benefit', 'Sjukpenning'],
      ['activity_support', 'Aktivitetsstöd'],
      ['housing_allowance', 'Bostadsbidrag'],
      ['maintenance_support', 'Underhållsstöd'],
      ['other', 'Annan ersättning'],
    ]),
    multi('otherSupport', 'Annat stöd från kommunala eller offentliga aktörer', [
      ['none', 'Inget'],
      ['social_services', 'Socialtjänsten (annat än ekonomiskt bistånd)'],
      ['healthcare', 'Hälso- och sjukvård'],
      ['psychiatry', 'Psykiatri'],
      ['addiction_care', 'Beroendevård'],
      ['other', 'Annat stöd'],
    ]),
    single('languageSupportNeeded', 'Behov av språkstöd', [
      ['yes', 'Ja'],
      ['no', 'Nej'],
    ]),
    single('distanceToLabourMarket', 'Avstånd till arbetsmarknaden', [
      ['close', 'Nära'],
      ['medium', 'Medellångt'],
      ['far', 'Långt'],
    ]),
  ],
};

export function findQuestion(questionnaire: Questionnaire, key: string): Question | undefined {
  return questionnaire.questions.find((q) => q.key === key);
}
