// The dashboard page: a server-rendered, escaped overview of every queue (read-only).
import escapeHtml from 'escape-html';
import type { QueueFile } from '../store/types.ts';
import { queueSummary } from './views.ts';

const e = (v: unknown) => escapeHtml(String(v ?? ''));

export function renderDashboard(files: QueueFile[]): string {
  const rows = files
    .map((f) => {
      const s = queueSummary(f);
      const broken = s.broken.map((b) => `${e(b.stream)} broken by ${e(b.culprit)}`).join('; ') || 'none';
      const title = (id: string) => f.state.changes[id]?.title ?? '';
      const last = f.state.verdicts.slice(-5).reverse().map((v) => `<li>${e(v.change)} ${e(title(v.change))}: <strong>${e(v.verdict)}</strong>${v.culprit && v.culprit !== v.change ? ` (culprit ${e(v.culprit)})` : ''}</li>`).join('');
      return `<tr><th scope="row"><a href="/api/queues/${encodeURIComponent(s.name)}">${e(s.name)}</a></th><td>${s.depth}</td><td>${s.runs_in_flight}</td><td>${s.paused ? `paused: ${e(s.paused.reason)}` : 'running'}</td><td>${broken}</td><td><ul>${last}</ul></td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="10"><title>ost-gate</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem;color-scheme:light dark}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #8884;padding:.4rem;text-align:left;vertical-align:top}ul{margin:0;padding-left:1rem}</style>
</head><body><h1>ost-gate</h1>
<table><caption>Queues</caption><thead><tr><th scope="col">queue</th><th scope="col">depth</th><th scope="col">runs in flight</th><th scope="col">state</th><th scope="col">broken streams</th><th scope="col">last verdicts</th></tr></thead>
<tbody>${rows || '<tr><td colspan="6">No queues yet: nothing has merged since the server started.</td></tr>'}</tbody></table>
<p>JSON: <a href="/api/queues">/api/queues</a></p></body></html>`;
}
