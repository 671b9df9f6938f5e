// A queue's journal: one record per line, `<checksum> <compact JSON>`, appended and fsynced before the
// engine acts on it. The checksum is the first 16 hex digits of the SHA-256 of the JSON, so that a
// flipped byte that leaves the JSON valid is caught too. Reading tells a last line cut short by a
// crash (no newline: dropped) from damage (a complete line whose checksum or JSON is wrong, or numbers
// out of order: refused, naming the file and line). Lines from before checksums (bare JSON) are read.
import { createHash } from 'node:crypto';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from './durable.ts';
import type { JournalRecord } from './types.ts';

/** A journal damaged before its last line: nothing of it is applied, and the file is left alone. */
export class CorruptJournalError extends Error {}

export interface ParsedJournal {
  /** Records numbered after `afterSeq`, in order. */
  records: JournalRecord[];
  /** Bytes of a last line cut short (0 when there is none). */
  tornBytes: number;
}

/** The checksum a journal line carries for its JSON. */
export function recordChecksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/** One journal line (without its newline) for a record. */
export function formatRecord(record: JournalRecord): string {
  const json = JSON.stringify(record);
  return `${recordChecksum(json)} ${json}`;
}

const CHECKSUMMED = /^([0-9a-f]{16}) /;

/** The JSON of a line, once its checksum is checked (bare JSON from before checksums passes as it is). */
function checkedJson(line: string, where: string): string {
  const sum = CHECKSUMMED.exec(line);
  if (!sum) {
    if (line.startsWith('{')) return line;
    throw new CorruptJournalError(`${where} is damaged: it does not start with a checksum`);
  }
  const json = line.slice(sum[0].length);
  if (recordChecksum(json) !== sum[1])
    throw new CorruptJournalError(`${where} is damaged: it does not match its checksum`);
  return json;
}

/** Parses journal text; records numbered `afterSeq` or lower are already in the snapshot and left out. */
export function parseJournal(text: string, path: string, afterSeq: number): ParsedJournal {
  const end = text.lastIndexOf('\n') + 1;
  const records: JournalRecord[] = [];
  let last = -1;
  text
    .slice(0, end)
    .split('\n')
    .forEach((line, i) => {
      if (line === '') return;
      const where = `journal ${path} line ${i + 1}`;
      let record: JournalRecord;
      try {
        record = JSON.parse(checkedJson(line, where)) as JournalRecord;
      } catch (err) {
        if (err instanceof CorruptJournalError) throw err;
        throw new CorruptJournalError(`${where} is damaged: ${(err as Error).message}`);
      }
      if (typeof record?.n !== 'number' || (last >= 0 && record.n !== last + 1))
        throw new CorruptJournalError(
          `journal ${path} line ${i + 1} is out of order (record ${String(record?.n)} after ${last})`,
        );
      last = record.n;
      if (record.n > afterSeq) records.push(record);
    });
  if (records.length && records[0]!.n !== afterSeq + 1)
    throw new CorruptJournalError(
      `journal ${path} starts at record ${records[0]!.n}, but its snapshot ends at ${afterSeq}: records are missing`,
    );
  return { records, tornBytes: Buffer.byteLength(text.slice(end)) };
}

/** The journal file of one queue, kept open for appending. */
export class JournalFile {
  private handle: FileHandle | null = null;
  /** Current size in bytes. */
  bytes = 0;

  constructor(readonly path: string) {}

  /** The journal's text ('' when there is none). */
  async read(): Promise<string> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  /** Cuts the file to its first `bytes` bytes, durably. */
  async truncate(bytes: number): Promise<void> {
    const h = await this.open();
    await h.truncate(bytes);
    await h.sync();
    this.bytes = bytes;
  }

  /** Appends one record as a line and waits until it is on disk; returns the journal's new size. */
  async append(record: JournalRecord): Promise<number> {
    const h = await this.open();
    const line = formatRecord(record) + '\n';
    await h.write(line);
    await h.datasync();
    this.bytes += Buffer.byteLength(line);
    return this.bytes;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }

  private async open(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    const existed = await stat(this.path).then(
      (s) => s.size,
      () => null,
    );
    const handle = await open(this.path, 'a', 0o600);
    this.handle = handle;
    this.bytes = existed ?? 0;
    // a new journal's directory entry must be on disk before a record in it counts as written
    if (existed === null) await syncDirectory(dirname(this.path));
    // a last line cut short by a crash is cut off before the first append, so that the next record
    // starts on a line of its own (loading has reported and skipped it; only the owner appends)
    if (this.bytes > 0) {
      const text = await readFile(this.path);
      const whole = text.lastIndexOf(0x0a) + 1;
      if (whole < text.length) {
        await handle.truncate(whole);
        await handle.sync();
        this.bytes = whole;
      }
    }
    return handle;
  }
}
