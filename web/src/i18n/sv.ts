/** Swedish texts for the API's stable codes. Questionnaire labels come from the API itself. */

export const ROLE_LABELS: Record<string, string> = {
  caseworker: 'Handläggare',
  process_owner: 'Processägare',
  evaluator: 'Utvärderare',
  admin: 'Administratör',
};

const MUNICIPALITY_NAMES: Record<string, string> = {
  '2281': 'Sundsvall',
  '2262': 'Timrå',
  '2280': 'Härnösand',
  '2260': 'Ånge',
  '2283': 'Sollefteå',
  '2284': 'Örnsköldsvik',
  '2282': 'Kramfors',
};

export function municipalityName(code: string): string {
  const name = MUNICIPALITY_NAMES[code];
  return name ? `${name} (${code})` : `Kommun ${code}`;
}

export const UNIT_LABELS: Record<string, string> = {
  forsorjningsstod: 'Försörjningsstöd',
  vuxenstod: 'Vuxenstöd',
  'arbete-och-integration': 'Arbete och Integration',
  'rehabilitering-och-utveckling': 'Rehabilitering och Utveckling',
};
export const UNIT_CODES = Object.keys(UNIT_LABELS);

export const GENDER_LABELS: Record<string, string> = { female: 'Kvinna', male: 'Man', other: 'Annat', unknown: 'Vet ej' };
export const BORN_ABROAD_LABELS: Record<string, string> = { no: 'Född i Sverige', yes: 'Född utomlands', unknown: 'Vet ej' };
export const PRIORITY_LABELS: Record<string, string> = { high: 'Hög', medium: 'Medel', low: 'Låg' };
export const PRIORITIES = ['high', 'medium', 'low'] as const;
export const STATUS_LABELS: Record<string, string> = { open: 'Öppet', closed: 'Avslutat' };

export const CLOSURE_LABELS: Record<string, string> = {
  employment: 'Arbete',
  studies: 'Studier',
  other_benefit: 'Annan ersättning',
  moved: 'Flyttat',
  other: 'Annat',
  unknown: 'Okänd anledning',
};

export const INTERVENTION_TYPE_LABELS: Record<string, string> = {
  language_coach: 'Språkstödjande coach',
  work_practice: 'Arbetsträning/praktik',
  employer_contact: 'Kontakt med arbetsgivare',
  rehabilitation: 'Rehabilitering',
  study_guidance: 'Studievägledning',
  labour_market_programme: 'Arbetsmarknadsprogram',
  other: 'Annan insats',
};
export const PROVIDER_LABELS: Record<string, string> = { municipality: 'Kommunen', employment_service: 'Arbetsförmedlingen', other: 'Annan aktör' };
export const OUTCOME_LABELS: Record<string, string> = { completed: 'Genomförd', interrupted: 'Avbruten', unknown: 'Vet ej' };

export const EVENT_LABELS: Record<string, string> = {
  CaseRegistered: 'Ärende registrerat',
  AssessmentRecorded: 'Bedömning registrerad',
  AssessmentCorrected: 'Bedömning rättad',
  PrioritySet: 'Prioritering satt',
  CaseTransferred: 'Flyttat till annan enhet',
  InterventionStarted: 'Insats påbörjad',
  InterventionEnded: 'Insats avslutad',
  BenefitMonthRecorded: 'Biståndsmånad registrerad',
  BenefitMonthWithdrawn: 'Biståndsmånad borttagen',
  CaseClosed: 'Ärende avslutat',
  CaseReopened: 'Ärende återöppnat',
  PersonErased: 'Personuppgifter raderade',
};

/** Keys of the crosstab besides question keys (API.md). */
export const BACKGROUND_KEYS: Record<string, string> = {
  gender: 'Kön',
  unit: 'Enhet',
  priority: 'Prioritering',
  bornAbroad: 'Födelseland',
  ageGroup: 'Åldersgrupp',
  hasChildren: 'Barn i hushållet',
};

/** Label for a value of a background key (gender, unit, …), falling back to the code itself. */
export function backgroundValueLabel(key: string, code: string): string {
  const table: Record<string, Record<string, string>> = {
    gender: GENDER_LABELS,
    unit: UNIT_LABELS,
    priority: { ...PRIORITY_LABELS, not_set: 'Ingen prioritering' },
    bornAbroad: BORN_ABROAD_LABELS,
    hasChildren: { yes: 'Ja', no: 'Nej', unknown: 'Vet ej' },
    ageGroup: { under_25: 'Under 25', '25_34': '25–34', '35_44': '35–44', '45_54': '45–54', '55_plus': '55 och äldre' },
    status: STATUS_LABELS,
    closureReason: CLOSURE_LABELS,
  };
  if (code === 'unknown' || code === 'null') return table[key]?.[code] ?? 'Vet ej';
  return table[key]?.[code] ?? code;
}

export const formatPercent = (share: number | null | undefined): string =>
  share === null || share === undefined || Number.isNaN(share) ? '–' : `${(share * 100).toLocaleString('sv-SE', { maximumFractionDigits: 1 })}\u00a0%`;

export const formatCount = (n: number | null | undefined, suppressed?: boolean): string =>
  suppressed || n === null || n === undefined ? 'dolt' : n.toLocaleString('sv-SE');

export function formatDate(d: string | null | undefined): string {
  if (!d) return '–';
  return d.length === 10 ? d : new Date(d).toLocaleString('sv-SE', { timeZone: 'Europe/Stockholm' });
}

/** Today in Europe/Stockholm as YYYY-MM-DD (the API's calendar). */
export function todayInStockholm(now = new Date()): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
