// A message as a check run's summary, within the length GitHub accepts.

/** GitHub refuses a check run whose output.summary is longer than this. */
export const SUMMARY_LIMIT = 65_535;

/** The verdict message as a check run's summary: cut to GitHub's limit, pointing to the full comment. */
export function checkSummary(body: string, changeUrl: string | null): string {
  if (body.length <= SUMMARY_LIMIT) return body;
  const tail = `\n\n… (cut here: the whole message is in the comment on ${changeUrl ?? 'the change'})`;
  return body.slice(0, SUMMARY_LIMIT - tail.length) + tail;
}
