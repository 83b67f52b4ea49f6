import type { Siren } from '../audio/siren.ts';
import { content, el, replaceChildren, setAttr, setText } from '../dom.ts';
import type { ConnectionState } from '../live/live-feed.ts';
import type { Dirty } from '../state/estate-store.ts';
import { missedDeadlines } from '../state/work-order-kpi.ts';
import { AlarmBanner } from './alarm-banner.ts';
import { alarmListView } from './alarm-list-view.ts';
import { buildingView } from './building-view.ts';
import { formatAge, formatTime } from './format.ts';
import { languageSwitch } from './language-switch.ts';
import type { AppContext, View } from './view.ts';
import { wallView } from './wall-view.ts';
import { workOrderBoard } from './work-order-board.ts';
import { workOrderDetail } from './work-order-detail.ts';

const TOAST_MS = 8000;

/**
 * The frame around every screen: navigation, the estate clock, the connection and the age of the
 * data, the language switch, the user; the alarm banner over everything; the current view.
 */
export class Shell {
  readonly root = el('div', { class: 'shell' });
  private readonly main = el('main', { class: 'main' });
  private readonly toasts = el('div', { class: 'toasts', 'aria-live': 'polite' });
  private readonly banner: AlarmBanner;
  private view: View | undefined;
  private header = el('header');
  private connection = el('div', { class: 'connection' });
  private clock = el('div', { class: 'clock' });
  private alarmCount = el('span', { class: 'nav-count' });
  private overdueCount = el('span', { class: 'nav-count' });
  private connectionState: ConnectionState = 'connecting';
  private connectionSince = Date.now();

  constructor(
    private readonly ctx: AppContext,
    siren: Siren,
    private readonly logout: () => void,
  ) {
    this.banner = new AlarmBanner(ctx, siren);
    this.root.append(this.header, this.main, this.banner.root, this.toasts);
    this.build();
  }

  setConnection(state: ConnectionState, since: number): void {
    this.connectionState = state;
    this.connectionSince = since;
    this.renderConnection();
  }

  /** Language changed: every label again. */
  rebuild(): void {
    this.build();
    this.banner.update();
  }

  route(): void {
    this.view?.destroy?.();
    const hash = location.hash.replace(/^#\/?/, '');
    const [page, arg] = hash.split('/');
    const { ctx } = this;
    const id = arg === undefined ? undefined : decodeURIComponent(arg);
    if (page === 'alarms') this.view = alarmListView(ctx);
    else if (page === 'building' && id && ctx.site.buildings.some((b) => b.id === id)) this.view = buildingView(ctx, id);
    else if (page === 'work-orders' && id && /^\d+$/.test(id)) this.view = workOrderDetail(ctx, Number(id));
    else if (page === 'work-orders') this.view = workOrderBoard(ctx);
    else this.view = wallView(ctx);
    // A work order's page lights up the board's link; a building's, its own.
    const current = page === 'building' ? `#/${hash}` : `#/${page || 'wall'}`;
    for (const a of this.header.querySelectorAll<HTMLAnchorElement>('nav a')) a.classList.toggle('active', a.getAttribute('href') === current);
    replaceChildren(this.main, this.view.root);
    document.body.dataset.view = page || 'wall';
  }

  render(dirty: Dirty, tick: boolean): void {
    if (dirty.all && this.view?.outdated?.()) this.route();
    else this.view?.update(dirty, tick);
    if (dirty.all || dirty.alarms || tick) this.banner.update();
    if (dirty.all || dirty.alarms || dirty.tickets || tick) this.renderCounts();
    if (tick) this.renderClock();
    this.renderConnection();
  }

  notify(text: string, detail?: string): void {
    const toast = el('div', { class: 'toast' }, text, detail ? ' ' : '', detail ? content(detail) : null);
    this.toasts.append(toast);
    setTimeout(() => toast.remove(), TOAST_MS);
  }

  destroy(): void {
    this.view?.destroy?.();
    this.root.remove();
  }

  private build(): void {
    const { i18n, site, session } = this.ctx;
    document.title = `${i18n.t('app.title')} · ${site.name}`;
    const header = el(
      'header',
      { class: 'top' },
      el('div', { class: 'brand' }, el('div', { class: 'brand-title' }, i18n.t('app.title')), content(site.name, 'div', 'brand-site')),
      el(
        'nav',
        {},
        el('a', { href: '#/wall' }, i18n.t('nav.wall')),
        el('a', { href: '#/alarms' }, i18n.t('nav.alarms'), ' ', this.alarmCount),
        el('a', { href: '#/work-orders' }, i18n.t('nav.workOrders'), ' ', this.overdueCount),
        ...site.buildings.map((b) => el('a', { href: `#/building/${encodeURIComponent(b.id)}`, class: 'nav-building', 'data-content': true }, b.id)),
      ),
      this.connection,
      this.clock,
      languageSwitch(i18n),
      el('div', { class: 'user' }, content(session.user.displayName), el('span', { class: 'role' }, i18n.label('role', session.user.role)), el('button', { class: 'logout', onclick: () => this.logout() }, i18n.t('app.logout'))),
    );
    this.header.replaceWith(header);
    this.header = header;
    this.route();
    this.renderCounts();
    this.renderClock();
    this.renderConnection();
  }

  private renderCounts(): void {
    const { store } = this.ctx;
    let active = 0;
    for (const a of store.alarms.values()) if (a.conditionActive) active++;
    const now = store.serverNow();
    let overdue = 0;
    for (const w of store.tickets.values()) if (missedDeadlines(w, now).length > 0) overdue++;
    setText(this.alarmCount, active ? String(active) : '');
    setText(this.overdueCount, overdue ? String(overdue) : '');
    this.overdueCount.classList.toggle('bad', overdue > 0);
  }

  private renderClock(): void {
    setText(this.clock, formatTime(this.ctx.i18n, this.ctx.site.timezone, this.ctx.store.serverNow(), false));
  }

  private renderConnection(): void {
    const { i18n, store, site } = this.ctx;
    const state = this.connectionState;
    setAttr(this.connection, 'data-connection', state);
    document.body.classList.toggle('is-disconnected', state === 'disconnected');
    const age = store.lastMessageAt === undefined ? '' : i18n.t('conn.age', { age: formatAge(i18n, Date.now() - store.lastMessageAt) });
    const text =
      state === 'live'
        ? [i18n.t('conn.live'), age]
        : state === 'connecting'
          ? [i18n.t('conn.connecting'), age]
          : [i18n.t('conn.disconnected'), i18n.t('conn.since', { time: formatTime(i18n, site.timezone, this.connectionSince, false) }), age];
    setText(this.connection, text.filter(Boolean).join(' · '));
  }
}
