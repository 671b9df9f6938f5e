// A lowdb adapter like lowdb's own JSONFile, but durable: JSONFile's writer (steno) renames a
// temporary file into place without fsync, so a power cut can lose or empty the last write. This one
// writes compact JSON through writeDurably (file fsynced, renamed, directory fsynced).
import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { writeDurably } from './durable.ts';

export class DurableJSONFile<T> implements Adapter<T> {
  constructor(private readonly path: string) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return JSON.parse(text) as T;
  }

  async write(data: T): Promise<void> {
    await writeDurably(this.path, JSON.stringify(data));
  }
}
