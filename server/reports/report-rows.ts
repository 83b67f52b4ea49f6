import { label, type Language } from '../../common/i18n/labels.ts';
import type { MonthlyReport } from './monthly-report.ts';

/** One line of the printed or exported report: a section, a measure and its value, in one language. */
export interface ReportRow {
  section: string;
  item: string;
  value: string;
  target?: string;
}

export function percent(rate: number | null): string {
  return rate === null ? '—' : `${(Math.round(rate * 1000) / 10).toFixed(1)} %`;
}

/** The report as rows, each label from the catalogue (common/i18n). */
export function reportRows(r: MonthlyReport, language: Language): ReportRow[] {
  const t = (group: string, value: string): string => label(language, group, value) ?? value;
  const rep = (key: string): string => t('report', key);
  const rows: ReportRow[] = [];
  const add = (section: string, item: string, value: number | string, target?: string) => rows.push({ section: rep(section), item, value: String(value), ...(target && { target }) });

  add('received', rep('total'), r.received.total);
  for (const [c, n] of Object.entries(r.received.byCategory)) if (n > 0) add('received', `${rep('byCategory')}: ${t('category', c)}`, n);
  for (const [s, n] of Object.entries(r.received.bySource)) if (n > 0) add('received', `${rep('bySource')}: ${t('source', s)}`, n);

  add('response', rep('total'), r.response.total);
  add('response', rep('onTime'), r.response.onTime);
  add('response', rep('late'), r.response.late);
  add('response', rep('notResponded'), r.response.notResponded);
  add('response', rep('pending'), r.response.pending);
  add('response', rep('onTimeRate'), percent(r.response.onTimeRate), percent(r.targets.responseOnTimeRate));

  add('replies', rep('total'), r.replies.due);
  add('replies', rep('onTime'), r.replies.onTime);
  add('replies', rep('late'), r.replies.late);
  add('replies', rep('unanswered'), r.replies.unanswered);
  add('replies', rep('pending'), r.replies.pending);
  add('replies', rep('onTimeRate'), percent(r.replies.onTimeRate));
  add('complaints', rep('total'), r.complaints.total);
  for (const [type, n] of Object.entries(r.complaints.byType)) if (n > 0) add('complaints', type === 'unknown' ? '—' : t('complaintType', type), n);

  add('callbacks', rep('made'), r.callbacks.made);
  add('callbacks', rep('onTime'), r.callbacks.onTime);
  add('callbacks', rep('missed'), r.callbacks.missed);
  add('callbacks', rep('notHome'), r.callbacks.notHome);
  add('callbacks', rep('callbackRate'), percent(r.callbacks.rate), percent(r.targets.callbackRate));
  add('callbacks', rep('onTimeRate'), percent(r.callbacks.onTimeRate));

  add('verifications', rep('made'), r.verifications.made);
  add('verifications', rep('onTime'), r.verifications.onTime);
  add('verifications', rep('missed'), r.verifications.missed);
  add('verifications', rep('onTimeRate'), percent(r.verifications.onTimeRate));

  add('qualityChecks', t('qualityCheck', 'pass'), r.qualityChecks.pass);
  add('qualityChecks', t('qualityCheck', 'fail'), r.qualityChecks.fail);

  add('satisfaction', rep('rated'), r.satisfaction.rated);
  for (const [level, n] of Object.entries(r.satisfaction.byLevel)) add('satisfaction', t('satisfaction', level), n);
  add('satisfaction', rep('satisfactionRate'), percent(r.satisfaction.rate), percent(r.targets.satisfactionRate));

  add('escalations', rep('total'), r.escalations.total);
  for (const [level, n] of Object.entries(r.escalations.byLevel)) if (n > 0) add('escalations', `${rep('byLevel')}: ${t('escalationLevel', level)}`, n);
  for (const [reason, n] of Object.entries(r.escalations.byReason)) if (n > 0) add('escalations', `${rep('byReason')}: ${t('escalationReason', reason)}`, n);

  add('recurring', rep('groups'), r.recurring.problems);
  add('recurring', rep('repeats'), r.recurring.repeats);
  for (const p of r.recurring.items) add('recurring', `${p.unit} · ${t('category', p.category)}`, p.workOrders.map((id) => `#${id}`).join(' '));
  return rows;
}
