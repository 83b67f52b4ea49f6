import { content, el, replaceChildren, setText } from '../dom.ts';
import type { Dirty } from '../state/estate-store.ts';
import { missedDeadlines, workOrderKpis } from '../state/work-order-kpi.ts';
import type { TicketState, WorkOrder } from '../types.ts';
import { formatTime, percent } from './format.ts';
import type { AppContext, View } from './view.ts';

/** Board columns: the states a work order waits in before it is closed. */
export const BOARD_STATES: readonly TicketState[] = ['open', 'reopened', 'acknowledged', 'in_progress', 'resolved', 'quality_checked', 'callback_done', 'verified'];
const CATEGORIES = ['fire-safety', 'lift', 'access-security', 'water-leak', 'water-supply', 'electrical', 'general', 'complaint'];
const PRIORITIES = ['critical', 'high', 'medium', 'low'];
const PRIORITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
/** The KPI strip also counts recently closed work orders: refreshed from the API at most this often. */
const KPI_REFRESH_MS = 10_000;

interface Filters {
  building: string;
  category: string;
  priority: string;
  overdueOnly: boolean;
}

/**
 * Work orders by state, with filters and the KPI strip of the company's rules (response within the
 * deadline, complaints answered and owners called back on time, overdue and escalated now). Overdue
 * cards stand out, people trapped in a lift and escalations are marked; a card opens the work order.
 */
export function workOrderBoard(ctx: AppContext): View {
  const { i18n, store, site } = ctx;
  const filters: Filters = { building: '', category: '', priority: '', overdueOnly: false };
  let history: WorkOrder[] = [];
  let historyAt = 0;

  const select = (name: keyof Filters, labelText: string, options: [string, string][]) =>
    el(
      'label',
      { class: 'filter' },
      el('span', {}, labelText),
      el(
        'select',
        { 'data-filter': name, onchange: (e: Event) => ((filters[name] as string) = (e.target as HTMLSelectElement).value, render()) },
        el('option', { value: '' }, i18n.t('board.all')),
        ...options.map(([value, text]) => el('option', { value }, text)),
      ),
    );
  const buildingOptions = site.buildings.map((b): [string, string] => [b.id, b.id]);
  const toolbar = el(
    'div',
    { class: 'toolbar' },
    select('building', i18n.t('board.filterBuilding'), buildingOptions),
    select('category', i18n.t('board.filterCategory'), CATEGORIES.map((c) => [c, i18n.label('category', c)])),
    select('priority', i18n.t('board.filterPriority'), PRIORITIES.map((p) => [p, i18n.label('priority', p)])),
    el(
      'label',
      { class: 'filter' },
      el('input', { type: 'checkbox', 'data-filter': 'overdue', onchange: (e: Event) => ((filters.overdueOnly = (e.target as HTMLInputElement).checked), render()) }),
      el('span', {}, i18n.t('board.overdueOnly')),
    ),
  );

  const kpi = (key: string, labelText: string) => {
    const value = el('div', { class: 'kpi-value' });
    const sub = el('div', { class: 'kpi-sub' });
    return { node: el('div', { class: 'kpi', 'data-kpi': key }, value, el('div', { class: 'kpi-label' }, labelText), sub), value, sub };
  };
  const kpis = {
    response: kpi('response', i18n.t('kpi.responseOnTime')),
    reply: kpi('reply', i18n.t('kpi.replyOnTime')),
    callback: kpi('callback', i18n.t('kpi.callbackOnTime')),
    overdue: kpi('overdue', i18n.t('kpi.overdue')),
    escalated: kpi('escalated', i18n.t('kpi.escalated')),
    leak: kpi('leak-test', i18n.t('kpi.leakTestPending')),
    open: kpi('open', i18n.t('kpi.open')),
  };
  const strip = el('div', { class: 'kpi-strip' }, ...Object.values(kpis).map((k) => k.node));
  // The printable monthly statistics (GET /api/reports/monthly?format=html) in a window of their own.
  const report = el(
    'button',
    {
      type: 'button',
      'data-action': 'monthly-report',
      onclick: () =>
        ctx.api.getText(`/api/reports/monthly?format=html&lang=${i18n.language}`).then(
          (html) => window.open(URL.createObjectURL(new Blob([html], { type: 'text/html' })), '_blank'),
          (err: unknown) => ctx.notify(i18n.t('ticket.failed'), (err as Error).message),
        ),
    },
    i18n.t('board.report'),
  );

  const columns = new Map<TicketState, { body: HTMLElement; count: HTMLElement }>();
  const board = el('div', { class: 'board' });
  for (const state of BOARD_STATES) {
    const body = el('div', { class: 'column-body' });
    const count = el('span', { class: 'column-count' });
    columns.set(state, { body, count });
    board.append(el('div', { class: 'column', 'data-state': state }, el('h2', {}, i18n.label('ticketState', state), ' ', count), body));
  }
  toolbar.append(report);
  const root = el('section', { class: 'view board-view' }, el('h1', {}, i18n.t('board.title')), strip, toolbar, board);

  /** What the work order waits for, and until when: taking the job, a complaint's reply, the callback or verification. */
  const dues = (w: WorkOrder): string => {
    const time = (t: number) => formatTime(i18n, site.timezone, t);
    const out: string[] = [];
    if (w.state === 'open' || w.state === 'reopened') out.push(i18n.t('board.responseDue', { time: time(w.responseDueAt) }));
    if (w.replyDueAt !== null && w.repliedAt === null) out.push(i18n.t('board.replyDue', { time: time(w.replyDueAt) }));
    if (w.callbackDueAt !== null && w.state !== 'callback_done' && w.state !== 'verified') {
      out.push(i18n.t(w.followUp === 'callback' ? 'board.callbackDue' : 'board.verificationDue', { time: time(w.callbackDueAt) }));
    }
    return out.length ? out.join(' · ') : i18n.label('callbackStatus', w.callbackStatus);
  };

  const card = (w: WorkOrder, now: number): HTMLElement => {
    const missed = missedDeadlines(w, now);
    return el(
      'a',
      { class: `wo-card prio-${w.priority}${missed.length ? ' overdue' : ''}`, href: `#/work-orders/${w.id}`, 'data-ticket': w.id, 'data-overdue': missed.length > 0, 'data-escalation': w.escalationLevel },
      el(
        'div',
        { class: 'wo-head' },
        el('span', { class: 'wo-id' }, `#${w.id}`),
        el('span', { class: `priority priority-${w.priority}` }, i18n.label('priority', w.priority)),
        w.peopleTrapped ? el('span', { class: 'trapped-badge' }, i18n.label('term', 'people-trapped')) : null,
        missed.length ? el('span', { class: 'overdue-badge' }, i18n.t('board.overdue'), ': ', missed.map((k) => i18n.label('deadline', k)).join(', ')) : null,
      ),
      content(w.title, 'div', 'wo-title'),
      el(
        'div',
        { class: 'wo-meta' },
        content(w.unit ?? w.building),
        ' · ',
        i18n.label('category', w.category),
        ' · ',
        w.complaintType ? i18n.label('complaintType', w.complaintType) : i18n.label('source', w.source),
        w.occurrences > 1 ? ` · ${i18n.t('board.occurrences', { n: w.occurrences })}` : '',
      ),
      w.escalationLevel > 0 ? el('div', { class: 'wo-escalated' }, i18n.t('board.escalated', { role: i18n.label('escalationLevel', String(w.escalationLevel)) })) : null,
      el('div', { class: 'wo-due' }, dues(w)),
    );
  };

  const matches = (w: WorkOrder, now: number): boolean =>
    (!filters.building || w.building === filters.building) &&
    (!filters.category || w.category === filters.category) &&
    (!filters.priority || w.priority === filters.priority) &&
    (!filters.overdueOnly || missedDeadlines(w, now).length > 0);

  const render = (): void => {
    const now = store.serverNow();
    const orders = store.openTickets().filter((w) => matches(w, now));
    orders.sort((a, b) => missedDeadlines(b, now).length - missedDeadlines(a, now).length || PRIORITY_RANK[a.priority]! - PRIORITY_RANK[b.priority]! || b.createdAt - a.createdAt);
    for (const [state, col] of columns) {
      const list = orders.filter((w) => w.state === state);
      replaceChildren(col.body, ...(list.length ? list.map((w) => card(w, now)) : [el('div', { class: 'empty' }, i18n.t('board.empty'))]));
      setText(col.count, String(list.length));
    }
    renderKpis(now);
  };

  const renderKpis = (now: number): void => {
    const merged = new Map(history.map((w) => [w.id, w]));
    for (const w of store.openTickets()) merged.set(w.id, w);
    const k = workOrderKpis([...merged.values()], now);
    const ratio = (target: { value: HTMLElement; sub: HTMLElement }, r: { met: number; total: number }) => {
      setText(target.value, percent(r.met, r.total));
      setText(target.sub, r.total ? i18n.t('kpi.of', { n: r.met, total: r.total }) : i18n.t('kpi.none'));
    };
    ratio(kpis.response, k.responseOnTime);
    ratio(kpis.reply, k.replyOnTime);
    ratio(kpis.callback, k.callbackOnTime);
    setText(kpis.overdue.value, String(k.overdue));
    kpis.overdue.node.classList.toggle('bad', k.overdue > 0);
    setText(kpis.escalated.value, String(k.escalated));
    kpis.escalated.node.classList.toggle('bad', k.escalated > 0);
    setText(kpis.leak.value, String(k.leakTestPending));
    setText(kpis.open.value, String(store.openTickets().length));
  };

  const refreshHistory = (): void => {
    if (Date.now() - historyAt < KPI_REFRESH_MS) return;
    historyAt = Date.now();
    ctx.api.get<{ items: WorkOrder[] }>('/api/tickets?limit=500').then(
      (page) => {
        history = page.items;
        renderKpis(store.serverNow());
      },
      () => undefined,
    );
  };
  render();
  refreshHistory();

  return {
    root,
    update(dirty: Dirty, tick: boolean) {
      if (dirty.all || dirty.tickets) {
        render();
        refreshHistory();
      } else if (tick) renderKpis(store.serverNow());
    },
  };
}
