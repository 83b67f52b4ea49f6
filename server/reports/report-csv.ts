import { label, type Language } from '../../common/i18n/labels.ts';
import type { MonthlyReport } from './monthly-report.ts';
import { reportRows } from './report-rows.ts';

const cell = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The report as CSV (RFC 4180): section, item, value, target; with a byte-order mark, so that
 * spreadsheet programs read the Chinese as UTF-8.
 */
export function reportCsv(r: MonthlyReport, language: Language): string {
  const h = (k: string) => label(language, 'report', k) ?? k;
  const lines = [[h('section'), h('item'), h('value'), h('target')], ...reportRows(r, language).map((row) => [row.section, row.item, row.value, row.target ?? ''])];
  return `\ufeff${lines.map((l) => l.map(cell).join(',')).join('\r\n')}\r\n`;
}
