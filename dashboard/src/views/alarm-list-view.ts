import { content, el, replaceChildren } from '../dom.ts';
import { mayHandleAlarms } from '../permissions.ts';
import type { Dirty } from '../state/estate-store.ts';
import type { Alarm } from '../types.ts';
import { field, openDialog } from './dialog.ts';
import { formatTime } from './format.ts';
import type { AppContext, View } from './view.ts';

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 } as const;
const SHELVE_MINUTES = [15, 60, 240, 480, 1440];

/** Most severe first, unacknowledged first, newest first (as GET /api/alarms). */
export function compareAlarms(a: Alarm, b: Alarm): number {
  const unack = (x: Alarm) => (x.state === 'active-unacknowledged' || x.state === 'cleared-unacknowledged' ? 0 : 1);
  return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || unack(a) - unack(b) || b.raisedAt - a.raisedAt;
}

function floodCount(a: Alarm): number | undefined {
  if (!a.flood) return undefined;
  if (a.flood === true) return 0;
  return a.flood.count ?? a.flood.children?.length ?? 0;
}

/**
 * Every open alarm with its ISA-18.2 state and flags (chattering, shelved, suppressed, flood
 * summary), and the operator actions the role allows: acknowledge, shelve with a reason, unshelve.
 * Suppressed alarms (children of a flood) are listed apart, below the others.
 */
export function alarmListView(ctx: AppContext): View {
  const { i18n, store, site, session } = ctx;
  const canHandle = mayHandleAlarms(session.user.role);
  const body = el('tbody');
  const suppressed = el('tbody');
  const empty = el('p', { class: 'empty' }, i18n.t('alarms.none'));
  const suppressedTitle = el('h2', { class: 'suppressed-title' });
  const header = () =>
    el(
      'thead',
      {},
      el('tr', {}, ...(['alarms.severity', 'alarms.state', 'alarms.alarm', 'alarms.where', 'alarms.raised', 'alarms.occurrences', 'alarms.actions'] as const).map((k) => el('th', {}, i18n.t(k)))),
    );
  const suppressedTable = el('table', { class: 'alarm-table suppressed' }, header(), suppressed);
  // The printable report opens in a window of its own, fetched with this session's token.
  const openReport = async (): Promise<void> => {
    const html = await ctx.api.page(`/api/alarms/report/page?lang=${encodeURIComponent(i18n.language)}`).catch((err: Error) => {
      ctx.notify(i18n.t('ticket.failed'), err.message);
      return undefined;
    });
    if (html !== undefined) window.open(URL.createObjectURL(new Blob([html], { type: 'text/html' })), '_blank');
  };
  const reportButton = el('button', { class: 'report-link', 'data-action': 'report', onclick: () => void openReport() }, i18n.t('alarms.report'));
  const root = el('section', { class: 'view alarm-view' }, el('h1', {}, i18n.t('alarms.title')), reportButton, empty, el('table', { class: 'alarm-table' }, header(), body), suppressedTitle, suppressedTable);

  const flags = (a: Alarm): HTMLElement => {
    const out = el('div', { class: 'flags' });
    const flood = floodCount(a);
    if (flood !== undefined) out.append(el('span', { class: 'flag flag-flood' }, i18n.label('alarmFlag', 'flood'), flood > 0 ? ` · ${i18n.t('alarms.floodCount', { n: flood })}` : ''));
    if (a.chattering) out.append(el('span', { class: 'flag flag-chattering' }, i18n.label('alarmFlag', 'chattering')));
    if (a.shelved) {
      out.append(el('span', { class: 'flag flag-shelved' }, i18n.label('alarmFlag', 'shelved'), ' ', i18n.t('alarms.shelvedUntil', { time: formatTime(i18n, site.timezone, a.shelved.until), reason: '' }), content(a.shelved.reason)));
    }
    if (a.suppressed === true) out.append(el('span', { class: 'flag flag-suppressed' }, i18n.label('alarmFlag', 'suppressed'), a.suppressedBy ? ' ' : '', a.suppressedBy ? content(a.suppressedBy) : null));
    return out;
  };

  const row = (a: Alarm): HTMLElement => {
    // A gateway's alarms and a flood's summary are the whole estate's: their building is the site id.
    const building = site.buildings.find((b) => b.id === a.building) ?? (a.building === site.id ? { name: site.name } : undefined);
    const unacknowledged = a.state === 'active-unacknowledged' || a.state === 'cleared-unacknowledged';
    const actions = el('td', { class: 'actions' });
    // A flood's summary is the feed's, not an alarm of the records: nothing to acknowledge or shelve.
    if (canHandle && !a.flood) {
      if (unacknowledged) actions.append(el('button', { 'data-action': 'acknowledge', onclick: () => void act(a, 'acknowledge', {}) }, i18n.label('alarmAction', 'acknowledge')));
      if (a.shelved) actions.append(el('button', { 'data-action': 'unshelve', onclick: () => void act(a, 'unshelve', {}) }, i18n.label('alarmAction', 'unshelve')));
      else actions.append(el('button', { 'data-action': 'shelve', onclick: () => shelve(a) }, i18n.label('alarmAction', 'shelve')));
    }
    return el(
      'tr',
      { 'data-alarm': a.id, 'data-state': a.state, class: `sev-${a.severity}${a.suppressed === true ? ' is-suppressed' : ''}` },
      el('td', {}, el('span', { class: `severity severity-${a.severity}` }, i18n.label('severity', a.severity))),
      el('td', { class: `alarm-state state-${a.state}` }, i18n.label('alarmState', a.state)),
      el('td', {}, content(i18n.pick(a.title), 'div', 'alarm-title'), flags(a)),
      el('td', {}, content(building?.name ?? a.building), el('div', { class: 'sub' }, content(a.device)), a.instance ? el('div', { class: 'sub' }, i18n.label('term', 'alarm-zone'), ' ', content(a.instance)) : null),
      el('td', {}, formatTime(i18n, site.timezone, a.raisedAt)),
      el('td', { class: 'num' }, String(a.occurrences)),
      actions,
    );
  };

  const act = async (a: Alarm, action: 'acknowledge' | 'unshelve' | 'shelve', payload: Record<string, unknown>): Promise<void> => {
    const alarm = await ctx.api.post<Alarm>(`/api/alarms/${encodeURIComponent(a.id)}/${action}`, payload).catch((err: Error) => {
      ctx.notify(i18n.t('ticket.failed'), err.message);
      return undefined;
    });
    if (!alarm) return;
    store.putAlarm(alarm);
    ctx.requestRender();
  };

  const shelve = (a: Alarm): void => {
    const reason = el('textarea', { name: 'reason', required: true, maxlength: 500, rows: 3 });
    const minutes = el(
      'select',
      { name: 'minutes' },
      ...SHELVE_MINUTES.map((m) => el('option', { value: m, selected: m === 60 }, m < 60 ? i18n.t('alarms.minutes', { n: m }) : i18n.t('alarms.hours', { n: m / 60 }))),
    );
    openDialog(i18n, `${i18n.label('alarmAction', 'shelve')}: ${i18n.pick(a.title)}`, [field(i18n.t('alarms.shelveReason'), reason), field(i18n.t('alarms.shelveFor'), minutes)], async (data) => {
      const alarm = await ctx.api.post<Alarm>(`/api/alarms/${encodeURIComponent(a.id)}/shelve`, { reason: String(data.get('reason') ?? ''), minutes: Number(data.get('minutes')) });
      store.putAlarm(alarm);
      ctx.requestRender();
    });
  };

  const render = (): void => {
    const alarms = store.openAlarms().sort(compareAlarms);
    const main = alarms.filter((a) => a.suppressed !== true);
    const hidden = alarms.filter((a) => a.suppressed === true);
    replaceChildren(body, ...main.map(row));
    replaceChildren(suppressed, ...hidden.map(row));
    empty.hidden = alarms.length > 0;
    suppressedTitle.hidden = suppressedTable.hidden = hidden.length === 0;
    suppressedTitle.textContent = i18n.t('alarms.suppressedGroup', { n: hidden.length });
  };
  render();
  return {
    root,
    update(dirty: Dirty) {
      if (dirty.all || dirty.alarms) render();
    },
  };
}
