import { spawn } from 'node:child_process';
async function bench(label, opts) {
  let n = 0;
  for (let i = 0; i < 200; i++) { const t0 = performance.now(); const c = spawn('/bin/true', [], opts); n += performance.now() - t0; await new Promise(r => c.on('close', r)); }
  console.log(label, 'sync ms/spawn', (n / 200).toFixed(2));
}
await bench('pipes+detached', { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
await bench('ignore+detached', { detached: true, stdio: 'ignore' });
await bench('ignore', { stdio: 'ignore' });
await bench('pipes+detached+env', { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin' } });
