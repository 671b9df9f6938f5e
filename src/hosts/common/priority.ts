// How a change is marked to jump the line on each host, beside `/ost priority`: a label on GitHub,
// a hashtag on Gerrit.

/** The GitHub pull request label. */
export const PRIORITY_LABEL = 'ost:priority';
/** The Gerrit hashtag. */
export const PRIORITY_MARK = 'ost-priority';
