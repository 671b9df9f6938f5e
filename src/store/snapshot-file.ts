// A lowdb adapter for queue snapshots: compact JSON written durably (writeDurably) with a SHA-256 of
// its body, so that a flipped byte is caught on reading instead of loading a wrong state. The file
// stays plain JSON: {"sha256":"<hex>","queue":<the queue file>}. A file from before checksums (the
// queue file itself) is still read.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { writeDurably } from './durable.ts';
import type { QueueFile } from './types.ts';

const HEAD = /^\{"sha256":"([0-9a-f]{64})","queue":/;

/** A snapshot that is not what was written: the message names the file and what is wrong. */
export class CorruptSnapshotError extends Error {}

export class SnapshotFile implements Adapter<QueueFile | null> {
  /** Size in bytes of the file as last read or written (0 when there is none). */
  bytes = 0;

  constructor(readonly path: string) {}

  async read(): Promise<QueueFile | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    this.bytes = Buffer.byteLength(text);
    return parseSnapshot(text, this.path);
  }

  /** Replaces the snapshot durably; `beforeRename` is called once the new one is on disk. */
  async write(file: QueueFile | null, beforeRename?: () => void): Promise<void> {
    if (!file) throw new Error(`no queue to write to ${this.path}`);
    const text = formatSnapshot(file);
    await writeDurably(this.path, text, beforeRename);
    this.bytes = Buffer.byteLength(text);
  }
}

export function formatSnapshot(file: QueueFile): string {
  const body = JSON.stringify(file);
  return `{"sha256":"${sha256(body)}","queue":${body}}`;
}

/** The queue file a snapshot holds; throws CorruptSnapshotError when its checksum or shape is wrong. */
export function parseSnapshot(text: string, path: string): QueueFile {
  const head = HEAD.exec(text);
  let file: unknown;
  if (head) {
    const body = text.slice(head[0].length, text.endsWith('}') ? -1 : undefined);
    if (!text.endsWith('}') || sha256(body) !== head[1])
      throw new CorruptSnapshotError(`snapshot ${path} does not match its checksum: it was changed or damaged`);
    file = JSON.parse(body);
  } else {
    try {
      file = JSON.parse(text);
    } catch (err) {
      throw new CorruptSnapshotError(`snapshot ${path} is not JSON: ${(err as Error).message}`);
    }
  }
  const f = file as Partial<QueueFile> | null;
  if (!f || f.schema !== 1 || typeof f.name !== 'string' || typeof f.state !== 'object')
    throw new CorruptSnapshotError(`snapshot ${path} does not hold a queue`);
  return f as QueueFile;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
