import { content, el, replaceChildren } from '../dom.ts';
import { ticketActionsFor } from '../permissions.ts';
import type { Dirty } from '../state/estate-store.ts';
import { missedDeadlines } from '../state/work-order-kpi.ts';
import type { TicketAction, User, WorkOrder, WorkOrderWithTimeline } from '../types.ts';
import { field, openDialog } from './dialog.ts';
import { formatTime } from './format.ts';
import type { AppContext, View } from './view.ts';

/**
 * One work order: its facts, deadlines, timeline, and the actions its state allows
 * (`allowedActions`) that the user's role may take, each with the fields it needs.
 */
export function workOrderDetail(ctx: AppContext, id: number): View {
  const { i18n, store, site, session, api } = ctx;
  const facts = el('dl', { class: 'facts' });
  const actions = el('div', { class: 'wo-actions' });
  const timeline = el('ol', { class: 'timeline' });
  const title = el('h1', {}, i18n.t('ticket.title', { id }));
  const root = el(
    'section',
    { class: 'view detail-view', 'data-ticket': id },
    el('a', { class: 'back', href: '#/work-orders' }, '← ', i18n.t('ticket.close')),
    title,
    el('div', { class: 'detail-grid' }, el('div', {}, facts, el('h2', {}, i18n.t('ticket.actions')), actions), el('div', {}, el('h2', {}, i18n.t('ticket.timeline')), timeline)),
  );
  let users: User[] = [];
  let current: WorkOrderWithTimeline | undefined;
  let loading = false;

  const time = (ms: number | null): string => (ms === null ? '—' : formatTime(i18n, site.timezone, ms));
  const fact = (labelText: string, value: Node | string) => [el('dt', {}, labelText), el('dd', {}, value)];

  const render = (w: WorkOrderWithTimeline): void => {
    current = w;
    const complaint = w.category === 'complaint';
    const missed = missedDeadlines(w, store.serverNow());
    root.dataset.state = w.state;
    replaceChildren(title, i18n.t('ticket.title', { id: w.id }), ' ', content(w.title));
    const assignee = users.find((u) => u.id === w.assigneeUserId);
    replaceChildren(
      facts,
      ...fact(i18n.t('ticket.state'), el('span', { class: `ticket-state state-${w.state}`, 'data-ticket-state': w.state }, i18n.label('ticketState', w.state))),
      ...fact(i18n.t('ticket.category'), i18n.label('category', w.category)),
      ...fact(i18n.t('ticket.priority'), i18n.label('priority', w.priority)),
      ...fact(i18n.t('ticket.source'), i18n.label('source', w.source)),
      ...fact(i18n.t('ticket.place'), content([w.building, w.unit, w.deviceId].filter(Boolean).join(' · '))),
      ...(w.reporter ? fact(i18n.t('ticket.reporter'), content(w.reporter)) : []),
      ...fact(i18n.t('ticket.assignee'), assignee ? content(assignee.displayName) : i18n.t('ticket.nobody')),
      ...fact(i18n.t('ticket.created'), time(w.createdAt)),
      ...fact(i18n.t('ticket.responseDue'), el('span', { class: missed.includes('response') ? 'overdue-text' : '' }, time(w.responseDueAt), missed.includes('response') ? ` · ${i18n.t('board.overdue')}` : '')),
      ...fact(
        i18n.t(complaint ? 'ticket.replyDue' : 'ticket.callbackDue'),
        el('span', { class: missed.includes('callback') ? 'overdue-text' : '' }, w.callbackDueAt === null ? i18n.label('callbackStatus', w.callbackStatus) : time(w.callbackDueAt), missed.includes('callback') ? ` · ${i18n.t('board.overdue')}` : ''),
      ),
      ...(w.repairItem || w.cost !== null ? fact(i18n.t('ticket.repair'), content([w.repairItem, w.cost === null ? null : w.cost.toFixed(2)].filter(Boolean).join(' · '))) : []),
    );
    const mine = ticketActionsFor(session.user.role, w.allowedActions);
    replaceChildren(
      actions,
      ...(mine.length === 0
        ? [el('p', { class: 'sub' }, i18n.t('ticket.noActions'))]
        : mine.map((a) => el('button', { class: a === 'reopen' ? '' : 'primary', 'data-action': a, onclick: () => act(w, a) }, i18n.label('ticketAction', a)))),
    );
    replaceChildren(
      timeline,
      ...[...w.timeline].reverse().map((e) => {
        const onTime = typeof e.details.onTime === 'boolean' ? e.details.onTime : undefined;
        return el(
          'li',
          { 'data-action': e.action },
          el('div', { class: 'tl-head' }, el('strong', {}, i18n.label('ticketAction', e.action)), ' · ', time(e.at), ' · ', e.byName ? content(e.byName) : i18n.t('ticket.system'), onTime === undefined ? '' : ` · ${onTime ? i18n.t('ticket.onTime') : i18n.t('ticket.late')}`),
          e.fromState && e.fromState !== e.toState ? el('div', { class: 'sub' }, i18n.label('ticketState', e.fromState), ' → ', i18n.label('ticketState', e.toState)) : null,
          e.comment ? content(e.comment, 'div', 'tl-comment') : null,
        );
      }),
    );
  };

  const load = async (): Promise<void> => {
    if (loading) return;
    loading = true;
    try {
      const [w, list] = await Promise.all([api.get<WorkOrderWithTimeline>(`/api/tickets/${id}`), users.length ? Promise.resolve(users) : api.get<User[]>('/api/users')]);
      users = list;
      render(w);
    } catch (err) {
      ctx.notify(i18n.t('ticket.failed'), (err as Error).message);
    } finally {
      loading = false;
    }
  };

  const send = async (w: WorkOrder, action: TicketAction, body: Record<string, unknown>): Promise<void> => {
    const change = await api.post<{ ticket: WorkOrder }>(`/api/tickets/${w.id}/${action}`, body);
    store.putTicket(change.ticket);
    ctx.requestRender();
    await load();
  };

  const act = (w: WorkOrder, action: TicketAction): void => {
    const comment = el('textarea', { name: 'comment', rows: 2, maxlength: 2000 });
    const fields: HTMLElement[] = [];
    if (action === 'assign') {
      fields.push(field(i18n.t('ticket.assignUser'), el('select', { name: 'userId', required: true }, ...users.filter((u) => u.role === 'engineer' || u.role === 'administrator').map((u) => el('option', { value: u.id, selected: u.id === session.user.id }, u.displayName)))));
    }
    if (action === 'resolve') {
      fields.push(field(i18n.t('ticket.item'), el('input', { name: 'item', maxlength: 500 })), field(i18n.t('ticket.cost'), el('input', { name: 'cost', type: 'number', min: 0, step: '0.01' })));
      if (w.category === 'water-leak') fields.push(el('label', { class: 'field check' }, el('input', { type: 'checkbox', name: 'leakTestNow' }), el('span', {}, i18n.t('ticket.leakTestDone'))));
    }
    if (action === 'leak-test') fields.push(field(i18n.t('ticket.leakTestAt'), el('input', { name: 'leakTestAt', type: 'datetime-local', required: true, value: localInput(store.serverNow()) })));
    if (action === 'callback') {
      fields.push(
        field(
          i18n.t('ticket.outcome'),
          el('select', { name: 'outcome' }, el('option', { value: 'satisfied' }, i18n.label('callbackOutcome', 'satisfied')), el('option', { value: 'problem' }, i18n.label('callbackOutcome', 'problem'))),
        ),
      );
    }
    fields.push(field(i18n.t('ticket.comment'), comment));
    openDialog(i18n, `${i18n.label('ticketAction', action)} · #${w.id}`, fields, async (data) => {
      const body: Record<string, unknown> = {};
      const text = String(data.get('comment') ?? '').trim();
      if (text) body.comment = text;
      if (action === 'assign') body.userId = Number(data.get('userId'));
      if (action === 'resolve') {
        const item = String(data.get('item') ?? '').trim();
        if (item) body.item = item;
        const cost = String(data.get('cost') ?? '');
        if (cost !== '') body.cost = Number(cost);
        if (data.get('leakTestNow')) body.leakTestAt = Math.floor(store.serverNow());
      }
      if (action === 'leak-test') {
        // The input has minutes only: "now" stays now, so a leak test is never dated before the repair began.
        const now = Math.floor(store.serverNow());
        const chosen = String(data.get('leakTestAt'));
        body.leakTestAt = chosen === localInput(now) ? now : Math.min(new Date(chosen).getTime(), now);
      }
      if (action === 'callback') body.outcome = String(data.get('outcome'));
      await send(w, action, body);
    });
  };

  void load();
  return {
    root,
    update(dirty: Dirty) {
      const known = store.tickets.get(id);
      if ((dirty.all || dirty.tickets) && known && current && known.updatedAt > current.updatedAt) void load();
    },
  };
}

/** A `datetime-local` value for an epoch time, in the screen's zone. */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
