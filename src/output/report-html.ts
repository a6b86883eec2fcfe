import type { ReportInput } from "../core/report/report-input.js";
import { endpointDocument, type ReportDocument, type TextBlock } from "../core/report/report-markdown.js";
import type { Table } from "../core/report/report-tables.js";

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The notes use **bold** and `code`; nothing else needs converting. */
function inline(s: string): string {
  return esc(s)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/`(.+?)`/g, "<code>$1</code>");
}

function htmlTable(t: Table): string {
  const head = t.header.map((h) => `<th>${esc(h)}</th>`).join("");
  const rows = t.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("\n");
  return `<h2>${esc(t.title)}</h2>\n<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1320px;margin:2rem auto;padding:0 1rem;color:#1d2329}
p,ul{max-width:80ch}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde1e6;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:13px;margin:.5rem 0;display:block;overflow-x:auto}
th,td{border:1px solid #dde1e6;padding:.25rem .4rem;text-align:right;white-space:nowrap}th{background:#f4f6f8}
td:first-child,th:first-child{text-align:left}code{background:#f4f6f8;padding:0 .2rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(620px,1fr));gap:1rem}
figure{margin:0;border:1px solid #dde1e6;padding:.5rem}figcaption{font-size:13px;color:#5a6570}
`;

/** A report as one self-contained HTML file (inline CSS and SVG, no scripts, no network). */
export function documentHtml(
  d: ReportDocument,
  charts: { id: string; title: string; svg: string }[],
): string {
  const sections = d.sections
    .map((s) => {
      const ps = s.paragraphs.map((p) => `<p>${inline(p)}</p>`).join("\n");
      const bs = s.bullets?.length
        ? `<ul>${s.bullets.map((b) => `<li>${inline(b)}</li>`).join("")}</ul>`
        : "";
      return `<section><h2>${esc(s.title)}</h2>\n${ps}\n${bs}</section>`;
    })
    .join("\n");
  const figures = charts
    .map((c) => `<figure id="chart-${esc(c.id)}">${c.svg}<figcaption>${esc(c.title)}</figcaption></figure>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(d.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(d.title)}</h1>
<p>${inline(d.intro)}</p>
${sections}
${d.tables.map(htmlTable).join("\n")}
${d.blocks.map((b) => `<h2>${esc(b.title)}</h2>\n<pre>${esc(b.text)}</pre>`).join("\n")}
<h2>Charts</h2>
<div class="charts">
${figures}
</div>
</body></html>
`;
}

/** report.html of an LLM run. */
export function reportHtml(
  r: ReportInput,
  charts: { id: string; title: string; svg: string }[],
  blocks: TextBlock[] = [],
): string {
  return documentHtml(endpointDocument(r, blocks), charts);
}
