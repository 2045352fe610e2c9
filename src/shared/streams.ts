/**
 * Stream names, in one place because projections, exports and erasure parse them too.
 * A case is one stream; rounds and questionnaire versions are one stream per municipality
 * (their rules are municipality-wide: unique round labels, the version sequence).
 */
export const streams = {
  case: (municipality: string, caseId: string) => `case-${municipality}-${caseId}`,
  rounds: (municipality: string) => `rounds-${municipality}`,
  questionnaires: (municipality: string) => `questionnaires-${municipality}`,
  /** PersonErased events of the municipality (src/admin/erasure): one stream, in erasure order. */
  erasures: (municipality: string) => `erasures-${municipality}`,
};

/** The case id of a case stream name, or undefined for other streams. */
export function caseIdOfStream(stream: string): string | undefined {
  const m = /^case-\d{4}-(.+)$/.exec(stream);
  return m?.[1];
}
