import { spawn } from 'node:child_process';
const ballast = []; for (let i = 0; i < Number(process.argv[2]); i++) ballast.push({ i, s: 'x'.repeat(50) });
const t = performance.now(); let n = 0;
for (let i = 0; i < 200; i++) { const t0 = performance.now(); const c = spawn('/bin/true', [], { detached: true, stdio: ['ignore','pipe','pipe'] }); n += performance.now() - t0; await new Promise(r => c.on('close', r)); }
console.log(process.argv[2], 'rss MB', Math.round(process.memoryUsage().rss/1e6), 'sync ms/spawn', (n/200).toFixed(2), 'total ms/spawn', ((performance.now()-t)/200).toFixed(2));
