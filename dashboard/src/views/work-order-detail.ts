import { content, el, replaceChildren } from '../dom.ts';
import { ticketActionsFor } from '../permissions.ts';
import type { Dirty } from '../state/estate-store.ts';
import { missedDeadlines } from '../state/work-order-kpi.ts';
import type { DeadlineKind, TicketAction, User, WorkOrder, WorkOrderWithTimeline } from '../types.ts';
import { field, openDialog } from './dialog.ts';
import { formatTime } from './format.ts';
import type { AppContext, View } from './view.ts';

const CHECKS: readonly TicketAction[] = ['quality-check', 'callback', 'verify'];

/**
 * One work order: its facts (complaint type, quality check, callback or verification, satisfaction,
 * escalation), deadlines (response, reply, callback), timeline, and the actions its state allows
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
    const missed = missedDeadlines(w, store.serverNow());
    const deadline = (at: number | null, kind: DeadlineKind, empty: string) =>
      el('span', { class: missed.includes(kind) ? 'overdue-text' : '', 'data-deadline': kind }, at === null ? empty : time(at), missed.includes(kind) ? ` · ${i18n.t('board.overdue')}` : '');
    const person = (id: number | null) => content(users.find((u) => u.id === id)?.displayName ?? '');
    root.dataset.state = w.state;
    replaceChildren(title, i18n.t('ticket.title', { id: w.id }), ' ', content(w.title));
    const assignee = users.find((u) => u.id === w.assigneeUserId);
    const verification = w.followUp === 'verification';
    replaceChildren(
      facts,
      ...fact(i18n.t('ticket.state'), el('span', { class: `ticket-state state-${w.state}`, 'data-ticket-state': w.state }, i18n.label('ticketState', w.state))),
      ...fact(i18n.t('ticket.category'), el('span', {}, i18n.label('category', w.category), w.peopleTrapped ? el('span', { class: 'trapped-badge' }, i18n.label('term', 'people-trapped')) : '')),
      ...fact(i18n.t('ticket.priority'), i18n.label('priority', w.priority)),
      ...fact(i18n.t('ticket.source'), i18n.label('source', w.source)),
      ...(w.complaintType ? fact(i18n.t('ticket.complaintType'), el('span', { 'data-fact': 'complaint-type' }, i18n.label('complaintType', w.complaintType))) : []),
      ...fact(i18n.t('ticket.place'), content([w.building, w.unit, w.deviceId].filter(Boolean).join(' · '))),
      ...(w.reporter ? fact(i18n.t('ticket.reporter'), content(w.reporter)) : []),
      ...fact(i18n.t('ticket.assignee'), assignee ? content(assignee.displayName) : i18n.t('ticket.nobody')),
      ...fact(i18n.t('ticket.created'), time(w.createdAt)),
      ...fact(i18n.t('ticket.responseDue'), deadline(w.responseDueAt, 'response', '')),
      ...(w.replyDueAt !== null ? fact(i18n.t('ticket.replyDue'), deadline(w.replyDueAt, 'reply', '')) : []),
      ...(w.replyDueAt !== null ? fact(i18n.t('ticket.replied'), el('span', { 'data-fact': 'replied' }, w.repliedAt === null ? '—' : time(w.repliedAt))) : []),
      ...(w.qualityCheckedAt !== null ? fact(i18n.t('ticket.qualityChecked'), el('span', { 'data-fact': 'quality-checked' }, time(w.qualityCheckedAt), ' · ', person(w.qualityCheckedBy))) : []),
      ...fact(i18n.t('ticket.followUp'), i18n.label('followUp', w.followUp)),
      ...fact(i18n.t(verification ? 'ticket.verificationDue' : 'ticket.callbackDue'), deadline(w.callbackDueAt, w.followUp, i18n.label('callbackStatus', w.callbackStatus))),
      ...(w.callbackAttempts > 0 ? fact(i18n.t('ticket.callbackAttempts'), i18n.t('ticket.times', { n: w.callbackAttempts })) : []),
      ...(w.satisfaction ? fact(i18n.t('ticket.satisfaction'), el('span', { 'data-fact': 'satisfaction' }, i18n.label('satisfaction', w.satisfaction))) : []),
      ...(w.escalationLevel > 0
        ? fact(i18n.t('ticket.escalation'), el('span', { class: 'wo-escalated', 'data-fact': 'escalation' }, i18n.label('escalationLevel', String(w.escalationLevel)), w.escalatedAt === null ? '' : ` · ${time(w.escalatedAt)}`))
        : []),
      ...(w.repairItem || w.cost !== null ? fact(i18n.t('ticket.repair'), content([w.repairItem, w.cost === null ? null : w.cost.toFixed(2)].filter(Boolean).join(' · '))) : []),
    );
    // Whoever repaired it does not check, call back or verify it (the server refuses them too).
    const mine = ticketActionsFor(session.user.role, w.allowedActions).filter((a) => w.resolvedBy !== session.user.id || !CHECKS.includes(a));
    replaceChildren(
      actions,
      ...(mine.length === 0
        ? [el('p', { class: 'sub' }, i18n.t('ticket.noActions'))]
        : mine.map((a) => el('button', { class: a === 'reopen' || a === 'escalate' ? '' : 'primary', 'data-action': a, onclick: () => act(w, a) }, i18n.label('ticketAction', a)))),
    );
    replaceChildren(
      timeline,
      ...[...w.timeline].reverse().map((e) => {
        const onTime = typeof e.details.onTime === 'boolean' ? e.details.onTime : undefined;
        const d = e.details;
        const what = [
          typeof d.result === 'string' ? i18n.label(e.action === 'verify' ? 'verification' : 'qualityCheck', d.result) : '',
          typeof d.outcome === 'string' ? i18n.label('callbackOutcome', d.outcome) : '',
          typeof d.satisfaction === 'string' ? i18n.label('satisfaction', d.satisfaction) : '',
          e.action === 'escalate' && typeof d.role === 'string' ? `${i18n.label('role', d.role)} · ${i18n.label('escalationReason', String(d.reason))}` : '',
          e.action === 'page' && typeof d.reason === 'string' ? i18n.label('pageReason', d.reason) : '',
        ].filter(Boolean);
        return el(
          'li',
          { 'data-action': e.action },
          el('div', { class: 'tl-head' }, el('strong', {}, i18n.label('ticketAction', e.action)), ' · ', time(e.at), ' · ', e.byName ? content(e.byName) : i18n.t('ticket.system'), onTime === undefined ? '' : ` · ${onTime ? i18n.t('ticket.onTime') : i18n.t('ticket.late')}`),
          what.length ? el('div', { class: 'sub' }, what.join(' · ')) : null,
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

  const choice = (name: string, group: string, values: readonly string[]) => el('select', { name }, ...values.map((v) => el('option', { value: v }, i18n.label(group, v))));

  const act = (w: WorkOrder, action: TicketAction): void => {
    // A reply and an escalation are their comment: what the complainant was told, why it goes up.
    const spoken = action === 'reply' || action === 'escalate';
    const comment = el('textarea', { name: 'comment', rows: spoken ? 3 : 2, maxlength: 2000, required: spoken });
    const fields: HTMLElement[] = [];
    if (action === 'assign') {
      const workers = users.filter((u) => u.role === 'engineer' || u.role === 'engineering-supervisor' || u.role === 'administrator');
      fields.push(field(i18n.t('ticket.assignUser'), el('select', { name: 'userId', required: true }, ...workers.map((u) => el('option', { value: u.id, selected: u.id === session.user.id }, u.displayName)))));
    }
    if (action === 'resolve') {
      fields.push(field(i18n.t('ticket.item'), el('input', { name: 'item', maxlength: 500 })), field(i18n.t('ticket.cost'), el('input', { name: 'cost', type: 'number', min: 0, step: '0.01' })));
      if (w.category === 'water-leak') fields.push(el('label', { class: 'field check' }, el('input', { type: 'checkbox', name: 'leakTestNow' }), el('span', {}, i18n.t('ticket.leakTestDone'))));
    }
    if (action === 'leak-test') fields.push(field(i18n.t('ticket.leakTestAt'), el('input', { name: 'leakTestAt', type: 'datetime-local', required: true, value: localInput(store.serverNow()) })));
    if (action === 'quality-check') fields.push(field(i18n.t('ticket.result'), choice('result', 'qualityCheck', ['pass', 'fail'])));
    if (action === 'verify') fields.push(field(i18n.t('ticket.result'), choice('result', 'verification', ['ok', 'problem'])));
    if (action === 'callback') {
      const retry = field(i18n.t('ticket.retryAt'), el('input', { name: 'retryAt', type: 'datetime-local' }));
      const satisfaction = field(i18n.t('ticket.satisfaction'), choice('satisfaction', 'satisfaction', ['satisfied', 'basically-satisfied', 'dissatisfied']));
      const outcome = choice('outcome', 'callbackOutcome', ['satisfied', 'problem', 'not-home']);
      const shown = (): void => {
        const notHome = (outcome as HTMLSelectElement).value === 'not-home';
        retry.hidden = !notHome;
        satisfaction.hidden = notHome;
      };
      outcome.addEventListener('change', shown);
      fields.push(field(i18n.t('ticket.outcome'), outcome), satisfaction, field(i18n.t('ticket.method'), choice('method', 'callbackMethod', ['phone', 'visit'])), retry);
      shown();
    }
    fields.push(field(i18n.t(action === 'reply' ? 'ticket.replyText' : action === 'escalate' ? 'ticket.escalateWhy' : 'ticket.comment'), comment));
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
      if (action === 'quality-check' || action === 'verify') body.result = String(data.get('result'));
      if (action === 'callback') {
        body.outcome = String(data.get('outcome'));
        body.method = String(data.get('method'));
        if (body.outcome === 'not-home') {
          const retryAt = String(data.get('retryAt') ?? '');
          if (retryAt) body.retryAt = new Date(retryAt).getTime();
        } else body.satisfaction = String(data.get('satisfaction'));
      }
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
