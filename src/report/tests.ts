// What a culprit broke, as its verdict names it: the first few failing tests and how many more,
// for messages, mails and the dashboard alike.
import type { VerdictRecord } from '../core/index.ts';

/** Tests named in a line; the rest are counted. */
const SHOWN = 3;

export interface BrokenTests {
  shown: string[];
  /** How many more tests it broke than `shown` lists. */
  more: number;
}

/** The tests a culprit verdict names, or null when its CI reported none. */
export function brokenTests(v: Pick<VerdictRecord, 'tests' | 'testsBroken'>): BrokenTests | null {
  if (!v.tests?.length) return null;
  const shown = v.tests.slice(0, SHOWN);
  return { shown, more: Math.max(v.testsBroken ?? v.tests.length, v.tests.length) - shown.length };
}

/** ` and 2 more tests`, or nothing when every test is shown. */
export function moreTests(b: BrokenTests): string {
  return b.more > 0 ? ` and ${b.more} more test${b.more === 1 ? '' : 's'}` : '';
}

/** `broke a, b and 2 more tests`, with each test id passed through `quote`. */
export function brokeText(b: BrokenTests, quote: (id: string) => string = (id) => `\`${id}\``): string {
  return `broke ${b.shown.map(quote).join(', ')}${moreTests(b)}`;
}
