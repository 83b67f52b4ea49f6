import { label, type Language } from '../../common/i18n/labels.ts';
import { localParts } from '../work-orders/callback-window.ts';
import type { MonthlyReport } from './monthly-report.ts';
import { reportRows } from './report-rows.ts';

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function localTime(t: number, timezone: string): string {
  const p = localParts(t, timezone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
}

/** The report as a printable page (A4, one table per section), for the manager's monthly file. */
export function reportHtml(r: MonthlyReport, language: Language): string {
  const h = (k: string) => escape(label(language, 'report', k) ?? k);
  const sections = new Map<string, ReturnType<typeof reportRows>>();
  for (const row of reportRows(r, language)) {
    const list = sections.get(row.section);
    if (list) list.push(row);
    else sections.set(row.section, [row]);
  }
  const tables = [...sections]
    .map(
      ([section, rows]) => `<section><h2>${escape(section)}</h2><table><thead><tr><th>${h('item')}</th><th>${h('value')}</th><th>${h('target')}</th></tr></thead><tbody>
${rows.map((row) => `<tr><td>${escape(row.item)}</td><td class="n">${escape(row.value)}</td><td class="n">${escape(row.target ?? '')}</td></tr>`).join('\n')}
</tbody></table></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="${language}"><head><meta charset="utf-8"><title>${h('title')} ${escape(r.month)} · ${escape(r.estate.name)}</title>
<style>
@page { size: A4; margin: 15mm; }
body { font: 11pt/1.4 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #000; margin: 0 auto; max-width: 180mm; }
h1 { font-size: 16pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 6mm 0 2mm; }
table { width: 100%; border-collapse: collapse; } th, td { border: 1px solid #888; padding: 1mm 2mm; text-align: left; }
td.n { text-align: right; white-space: nowrap; } section { break-inside: avoid; } .meta { color: #333; }
</style></head><body>
<h1>${h('title')}</h1>
<p class="meta">${h('estate')}: ${escape(r.estate.name)} · ${h('month')}: ${escape(r.month)} · ${h('generated')}: ${escape(localTime(r.generatedAt, r.estate.timezone))} (${escape(r.estate.timezone)})</p>
${tables}
</body></html>
`;
}
