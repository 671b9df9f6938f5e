// `ost-gate demo`: parses its options and runs the scripted demo (src/demo.ts).
import { parseCommand } from './args.ts';
import { UsageError } from './errors.ts';

export const demoHelp = `Usage: ost-gate demo [--keep] [--port N] [--mail-dir DIR]

Runs the whole bot on a scripted local git repository: merges, a broken change, bisection, the
verdicts, and the fix, with the dashboard on 127.0.0.1. The repository, the data and the server's
log stay in the temporary directory it prints.
  --keep     keep the server running after the last verdict (the dashboard, /metrics), until Ctrl-C
  --port N   the dashboard's port (default: PORT if set, otherwise any free port)
  --mail-dir DIR   where the mails the demo would send are written as .eml files (default: mail/ in
             the temporary directory)
`;

export async function runDemoCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseCommand(
    'demo',
    argv,
    {
      options: { keep: { type: 'boolean', default: false }, port: { type: 'string' }, 'mail-dir': { type: 'string' } },
      usage: demoHelp,
    },
    out,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (values.port !== undefined && !/^\d+$/.test(values.port))
    throw new UsageError(`demo: --port takes a number, got ${values.port}`);
  const { runDemo } = await import('../demo.ts');
  const mailDir = values['mail-dir'];
  return runDemo({
    keep: values.keep ?? false,
    ...(values.port ? { port: Number(values.port) } : {}),
    ...(mailDir ? { mailDir } : {}),
    out,
  });
}
