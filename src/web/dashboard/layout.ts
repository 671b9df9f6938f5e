// The page shell: accessible structure, light and dark colours, a search box, and a small script
// that keeps <main> current by polling the same URL (the page works without it).
import html from 'html-template-tag';

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--run:#0969da;--card:#f6f8fa;
--c1:#0969da;--c2:#bc4c00;--c3:#8250df;--err:#8250df}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--ok:#3fb950;--bad:#f85149;
--warn:#d29922;--run:#4493f8;--card:#151b23;--c1:#4493f8;--c2:#f0883e;--c3:#ab7df8;--err:#ab7df8}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;border-bottom:1px solid var(--line)}
header a.home{font-weight:700;color:inherit;text-decoration:none}header form{margin-left:auto;display:flex;gap:.3rem}
input[type=search]{min-width:12rem;padding:.3rem .5rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
main{padding:1rem;max-width:72rem;margin:auto}a{color:var(--run)}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.4rem 0 .5rem}h3{font-size:1rem;margin:1rem 0 .4rem}
section.queue{border:1px solid var(--line);border-radius:8px;padding:.6rem 1rem 1rem;margin:0 0 1rem;background:var(--card)}
.table{overflow-x:auto}table{border-collapse:collapse;width:100%}caption{text-align:left;color:var(--muted);padding:.2rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}th{font-weight:600}
.state{display:inline-block;padding:0 .45rem;border-radius:1rem;border:1px solid currentColor;font-size:.85em;white-space:nowrap}
.passed,.fixed{color:var(--ok)}.culprit,.failed,.error,.rejected,.timed-out{color:var(--bad)}
.blocked,.paused,.waiting,.suspect{color:var(--warn)}.running,.dispatched,.testing{color:var(--run)}
.muted{color:var(--muted)}
.actions{display:flex;gap:.5rem;margin:.5rem 0}.said{border-left:3px solid var(--muted);padding-left:.5rem}
dl.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;margin:.5rem 0}
dl.figures div{border:1px solid var(--line);border-radius:6px;padding:.3rem .5rem}dt{color:var(--muted);font-size:.85em}dd{margin:0;font-weight:600}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(26rem,1fr));gap:0 2rem}
.chart svg{display:block;width:100%;height:auto;max-width:60rem}.chart text{fill:var(--fg);font-size:13px}#timeline text{font-size:11px}
.chart .axis-title{fill:var(--muted)}.axis-line,.grid{stroke:var(--line)}.line path{fill:none;stroke-width:2}
.series-1{--s:var(--c1)}.series-2{--s:var(--c2)}.series-3{--s:var(--c3)}.bars rect,.line circle{fill:var(--s)}.line path{stroke:var(--s)}
.run-bar{stroke-width:1.5;stroke:var(--o);fill:color-mix(in srgb,var(--o) 22%,var(--bg))}
.outcome-passed{--o:var(--ok)}.outcome-failed{--o:var(--bad)}.outcome-flake{--o:var(--warn)}.outcome-error{--o:var(--err)}
.outcome-cancelled{--o:var(--muted)}.outcome-running{--o:var(--run)}.run-bar.outcome-running{stroke-dasharray:4 2}
.verdict-mark .mark-line{stroke:var(--muted);stroke-dasharray:2 4;opacity:.6}.verdict-mark path{fill:var(--fg)}.limit{stroke:var(--bad);stroke-dasharray:4 3}
ul.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;list-style:none;padding:0;margin:.3rem 0;font-size:.9em}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.35em;vertical-align:-.1em;border-radius:2px;
background:var(--s,var(--o));border:1.5px solid var(--o,var(--s))}
.verdict-swatch{background:var(--fg)}.limit-swatch{background:var(--bad)}
`;

export interface PageOptions {
  title: string;
  /** Poll interval for live updates, ms. */
  refreshMs: number;
  /** Token to carry in links when the dashboard needs one. */
  token?: string | undefined;
}

export function page(body: string, opts: PageOptions): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · ost-gate</title><style>$${CSS}</style></head>
<body><a class="skip" href="#main">Skip to content</a>
<header><a class="home" href="/">ost-gate</a><span class="muted">post-merge system-test gate</span>
<form action="/search" method="get" role="search"><label for="q" class="skip">Search changes</label>
<input type="search" id="q" name="q" placeholder="change id, PR or Gerrit number, sha"><button type="submit">Search</button></form></header>
<main id="main" data-refresh="${String(opts.refreshMs)}">$${body}</main>
<noscript><p style="padding:0 1rem" class="muted">Reload the page to see new results.</p></noscript>
<script>
(function(){var m=document.getElementById('main');var ms=Number(m.dataset.refresh)||5000;
setInterval(function(){fetch(location.href,{headers:{'x-ost-partial':'1'}})
.then(function(r){return r.ok?r.text():null})
.then(function(t){if(t!==null&&t!==m.innerHTML){m.innerHTML=t}}).catch(function(){})},ms)})();
</script></body></html>`;
}

/** A state badge: the word is always there, the colour only repeats it. */
export function badge(state: string, text = state): string {
  return html`<span class="state ${state}">${text}</span>`;
}

/** The dispatching or paused badge of a queue, with the reason it is paused. */
export function pauseState(s: { paused: { reason: string } | null }): string {
  return s.paused ? badge('paused') + html` ${s.paused.reason}` : badge('running', 'dispatching');
}
