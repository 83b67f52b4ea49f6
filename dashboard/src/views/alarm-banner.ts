import type { Siren } from '../audio/siren.ts';
import { content, el, replaceChildren } from '../dom.ts';
import { record } from '../live/trace.ts';
import { mayHandleAlarms } from '../permissions.ts';
import type { Alarm } from '../types.ts';
import { formatTime } from './format.ts';
import type { AppContext } from './view.ts';

const SHOWN = 3;

/** Fire and emergency alarms (severity critical) that nobody has acknowledged, unless shelved or suppressed. */
export function bannerAlarms(alarms: Iterable<Alarm>): Alarm[] {
  const list: Alarm[] = [];
  for (const a of alarms) {
    if (a.severity !== 'critical' || a.shelved || a.suppressed === true) continue;
    if (a.state === 'active-unacknowledged' || a.state === 'cleared-unacknowledged') list.push(a);
  }
  return list.sort((a, b) => b.raisedAt - a.raisedAt);
}

/**
 * Takes over the screen while a fire or emergency alarm is unacknowledged, with the siren. Silencing
 * stops the sound on this screen only (until the next such alarm); the banner stays until the
 * alarm is acknowledged.
 */
export class AlarmBanner {
  readonly root = el('div', { class: 'banner', role: 'alertdialog', 'aria-live': 'assertive', hidden: true });
  private shown = new Set<string>();
  private silencedFor = new Set<string>();
  /** What the banner shows now; it is drawn again only when this changes, so its buttons stay put under a finger. */
  private drawn = '';

  constructor(
    private readonly ctx: AppContext,
    private readonly siren: Siren,
  ) {}

  update(): void {
    const { i18n, store } = this.ctx;
    const alarms = bannerAlarms(store.alarms.values());
    const ids = new Set(alarms.map((a) => a.id));
    const fresh = alarms.filter((a) => !this.shown.has(a.id));
    this.root.hidden = alarms.length === 0;
    document.body.classList.toggle('has-banner', alarms.length > 0);
    const signature = JSON.stringify([i18n.language, this.siren.state, alarms.map((a) => [a.id, a.state, a.updatedAt])]);
    if (signature !== this.drawn) {
      this.drawn = signature;
      this.draw(alarms, ids);
    }
    for (const id of this.silencedFor) if (!ids.has(id)) this.silencedFor.delete(id);
    const sound = alarms.some((a) => !this.silencedFor.has(a.id));
    this.siren.set(sound);
    document.body.dataset.siren = this.siren.state;
    for (const a of fresh) record('banner:shown', a.id);
    this.shown = ids;
  }

  private draw(alarms: Alarm[], ids: Set<string>): void {
    const { i18n, site, session } = this.ctx;
    if (alarms.length === 0) {
      this.root.replaceChildren();
      return;
    }
    const canAck = mayHandleAlarms(session.user.role);
    const rows = alarms.slice(0, SHOWN).map((a) =>
      el(
        'div',
        { class: 'banner-alarm', 'data-alarm': a.id },
        el('div', { class: 'banner-alarm-title' }, content(i18n.pick(a.title))),
        el('div', { class: 'banner-alarm-where' }, content(site.buildings.find((b) => b.id === a.building)?.name ?? a.building), ' · ', i18n.label('alarmState', a.state), ' · ', formatTime(i18n, site.timezone, a.raisedAt)),
        canAck ? el('button', { class: 'banner-ack', 'data-action': 'acknowledge', onclick: () => this.acknowledge(a) }, i18n.t('banner.acknowledge')) : null,
      ),
    );
    replaceChildren(
      this.root,
      el('div', { class: 'banner-title' }, i18n.t('banner.title')),
      ...rows,
      alarms.length > SHOWN ? el('div', { class: 'banner-more' }, i18n.t('banner.more', { n: alarms.length - SHOWN })) : null,
      canAck ? null : el('div', { class: 'banner-note' }, i18n.t('banner.cannotAcknowledge')),
      el(
        'div',
        { class: 'banner-tools' },
        el('button', { class: 'banner-silence', onclick: () => this.silence(ids) }, i18n.t('banner.silence')),
        this.siren.state === 'blocked' ? el('button', { class: 'banner-sound', onclick: () => this.siren.unlock() }, i18n.t('banner.enableSound')) : null,
      ),
    );
  }

  private silence(ids: Set<string>): void {
    for (const id of ids) this.silencedFor.add(id);
    this.ctx.requestRender();
    this.update();
  }

  private async acknowledge(a: Alarm): Promise<void> {
    try {
      const alarm = await this.ctx.api.post<Alarm>(`/api/alarms/${encodeURIComponent(a.id)}/acknowledge`, {});
      this.ctx.store.putAlarm(alarm);
      this.ctx.requestRender();
    } catch (err) {
      this.ctx.notify(this.ctx.i18n.t('ticket.failed'), (err as Error).message);
    }
  }
}
