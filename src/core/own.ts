// Safe lookup in the state's id-keyed records: ids come from outside, and `toString` is not a run.

/** The record's own entry for `key`, never one inherited from Object.prototype. */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
