// The last lines a `command:` run printed, kept (in the store's run logs) while it runs (every couple
// of seconds when there is something new) and once more when it ends, one write at a time.

const LOG_LINES = 200;
/** How often a running command's log is written out, when it printed something new. */
const LOG_FLUSH_MS = 2_000;

export class CommandLog {
  private readonly lines: string[] = [];
  private written = Promise.resolve();
  private dirty = false;
  private readonly flusher: NodeJS.Timeout;

  constructor(private readonly write: (text: string) => Promise<void>) {
    this.flusher = setInterval(() => void (this.dirty && this.save()), LOG_FLUSH_MS);
    this.flusher.unref();
  }

  /** Keeps the non-empty lines of a chunk of output, only the last LOG_LINES of them. */
  readonly keep = (chunk: Buffer): void => {
    this.dirty = true;
    this.lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l.length > 0),
    );
    if (this.lines.length > LOG_LINES) this.lines.splice(0, this.lines.length - LOG_LINES);
  };

  /** Adds ost-gate's own last line (why the command ended) and writes the log a last time. */
  async close(lastLine?: string): Promise<void> {
    if (lastLine) this.lines.push(lastLine);
    clearInterval(this.flusher);
    await this.save();
  }

  private save(): Promise<void> {
    this.dirty = false;
    const text = this.lines.join('\n') + '\n';
    this.written = this.written.then(() => this.write(text)).catch(() => undefined);
    return this.written;
  }
}
