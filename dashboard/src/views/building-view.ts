import { content, el, setAttr, setText } from '../dom.ts';
import type { Dirty } from '../state/estate-store.ts';
import type { Alarm, DeviceLiveState, LiveMetric } from '../types.ts';
import { formatAge, formatTime, formatValue } from './format.ts';
import { TrendChart, type TrendTarget } from './trend-chart.ts';
import type { AppContext, View } from './view.ts';

/** The metric a meter's trend and cell show. */
const METER_METRIC: Record<string, string> = { 'meter-water': 'volume_m3', 'meter-electric': 'energy_kwh', 'meter-gas': 'volume_m3' };
const METER_KINDS = ['meter-water', 'meter-electric', 'meter-gas'] as const;
const ALERT_EVENTS = new Set(['alarm', 'fault', 'forced', 'held_open', 'pressed', 'card_denied']);

type Updater = () => void;

/**
 * One building: water tanks (level gauge, pump, float switches), the fire panel and its alarm zones
 * (报警区域) in alarm, doors, emergency call buttons, and every unit's meters; each with its last
 * reading, its quality and its age. A tank or a meter opens its trend.
 */
export function buildingView(ctx: AppContext, buildingId: string): View {
  const { i18n, store, site } = ctx;
  const building = site.buildings.find((b) => b.id === buildingId);
  const chart = new TrendChart(ctx);
  const updaters = new Map<string, Updater[]>();
  const ageUpdaters: Updater[] = [];
  const heights = new Map<string, number>();
  const on = (id: string, u: Updater): void => {
    const list = updaters.get(id);
    if (list) list.push(u);
    else updaters.set(id, [u]);
  };
  const devices = store.devicesOf(buildingId);
  const byKind = (kind: string) => devices.filter((d) => d.kind === kind);
  const live = (id: string): DeviceLiveState | undefined => store.devices.get(id);
  const serverAge = (ts: number | undefined): string => (ts === undefined ? i18n.t('age.never') : formatAge(i18n, store.serverNow() - ts));

  const metricText = (m: LiveMetric | undefined): string => (m ? formatValue(m.value, m.engUnit) : i18n.t('building.noData'));
  const trend = (d: DeviceLiveState, metric: string): void => {
    const m = live(d.id)?.metrics[metric];
    const t: TrendTarget = { device: d.id, name: d.unit ? `${d.unit} ${i18n.label('deviceKind', d.kind)}` : d.name, metric };
    if (m?.engUnit) t.engUnit = m.engUnit;
    void chart.show(t);
  };
  const statusBadge = (d: DeviceLiveState): HTMLElement => {
    const badge = el('span', { class: 'status' });
    on(d.id, () => {
      const s = live(d.id)?.status ?? 'unknown';
      setAttr(badge, 'data-status', s);
      setText(badge, i18n.label('deviceStatus', s));
    });
    return badge;
  };
  const ageOf = (d: DeviceLiveState): HTMLElement => {
    const age = el('span', { class: 'age' });
    const u = () => setText(age, serverAge(live(d.id)?.lastSeen));
    on(d.id, u);
    ageUpdaters.push(u);
    return age;
  };

  // Tanks
  const tanks = byKind('tank').map((d) => {
    const fill = el('div', { class: 'gauge-fill' });
    const level = el('div', { class: 'tank-level' });
    const pump = el('div', { class: 'tank-pump' });
    const floats = el('div', { class: 'tank-floats' });
    const quality = el('span', { class: 'quality' });
    on(d.id, () => {
      const s = live(d.id);
      const m = s?.metrics.level_mm;
      const height = heights.get(d.id);
      const pct = m?.value != null && height ? Math.max(0, Math.min(100, (m.value / height) * 100)) : 0;
      fill.style.height = `${pct}%`;
      setText(level, m ? `${metricText(m)}${height ? ` · ${Math.round(pct)} %` : ''}` : i18n.t('building.noData'));
      const p = s?.metrics.pump_running;
      setText(pump, `${i18n.label('metric', 'pump_running')}: ${p?.value == null ? '—' : p.value ? i18n.t('building.pumpOn') : i18n.t('building.pumpOff')}`);
      setAttr(pump, 'data-running', p?.value ? 'true' : 'false');
      const fl = (metric: 'float_low' | 'float_high') => {
        const v = s?.metrics[metric]?.value;
        return `${i18n.label('metric', metric)}: ${v == null ? '—' : v ? i18n.t('building.switchOn') : i18n.t('building.switchOff')}`;
      };
      setText(floats, `${fl('float_low')} · ${fl('float_high')}`);
      setText(quality, m ? i18n.label('quality', m.quality) : '');
      setAttr(quality, 'data-quality', m?.quality ?? null);
    });
    return el(
      'button',
      { class: 'card tank-card', 'data-device': d.id, onclick: () => trend(d, 'level_mm') },
      content(d.name, 'div', 'card-title'),
      el('div', { class: 'tank-body' }, el('div', { class: 'gauge' }, fill), el('div', {}, level, pump, floats, el('div', { class: 'meta' }, statusBadge(d), ' ', quality, ' · ', ageOf(d)))),
    );
  });

  // Fire panels and their alarm zones
  const zoneLists: { id: string; list: HTMLElement }[] = [];
  const panels = byKind('fire-panel').map((d) => {
    const list = el('div', { class: 'zones' });
    zoneLists.push({ id: d.id, list });
    const last = el('div', { class: 'last-event' });
    on(d.id, () => {
      const e = live(d.id)?.lastEvent;
      setText(last, e ? `${i18n.t('building.lastEvent')}: ${i18n.label('event', e.event)}${e.attrs.zone ? ` ${String(e.attrs.zone)}` : ''} · ${formatTime(i18n, site.timezone, e.ts)}` : `${i18n.t('building.lastEvent')}: —`);
      setAttr(last, 'data-event', e?.event ?? null);
    });
    return el('div', { class: 'card fire-card', 'data-device': d.id }, content(d.name, 'div', 'card-title'), el('div', { class: 'meta' }, statusBadge(d)), el('h3', {}, i18n.t('building.zonesInAlarm')), list, last);
  });
  const renderZones = (alarms: Alarm[]): void => {
    for (const { id, list } of zoneLists) {
      const zones = alarms.filter((a) => a.device === id && a.instance !== undefined && a.conditionActive);
      list.replaceChildren(
        ...(zones.length === 0
          ? [el('span', { class: 'zone-ok' }, i18n.t('building.noZoneInAlarm'))]
          : zones.map((a) => el('span', { class: `zone zone-${a.ruleId === 'fire-zone-alarm' ? 'alarm' : 'fault'}`, 'data-zone': a.instance! }, i18n.label('rule', a.ruleId), ' ', content(a.instance)))),
      );
    }
  };

  // Doors and emergency buttons: their last event
  const eventCard = (d: DeviceLiveState): HTMLElement => {
    const state = el('div', { class: 'event-state' });
    const when = el('div', { class: 'sub' });
    const card = el('div', { class: `card event-card kind-${d.kind}`, 'data-device': d.id }, content(d.name, 'div', 'card-title'), state, when, el('div', { class: 'meta' }, statusBadge(d), ' · ', ageOf(d)));
    on(d.id, () => {
      const e = live(d.id)?.lastEvent;
      setText(state, e ? i18n.label('event', e.event) : '—');
      setText(when, e ? formatTime(i18n, site.timezone, e.ts) : '');
      setAttr(card, 'data-alert', e && ALERT_EVENTS.has(e.event) ? 'true' : null);
    });
    return card;
  };
  const doors = byKind('door').map(eventCard);
  const buttons = byKind('emergency-button').map(eventCard);

  // Meters, one row per unit
  const units = new Map<string, Partial<Record<(typeof METER_KINDS)[number], DeviceLiveState>>>();
  for (const d of devices) {
    if (!d.unit || !(METER_KINDS as readonly string[]).includes(d.kind)) continue;
    const row = units.get(d.unit) ?? {};
    row[d.kind as (typeof METER_KINDS)[number]] = d;
    units.set(d.unit, row);
  }
  const meterCell = (d: DeviceLiveState | undefined): HTMLElement => {
    if (!d) return el('td', {}, '—');
    const metric = METER_METRIC[d.kind]!;
    const value = el('span', { class: 'value' });
    const age = el('span', { class: 'age' });
    const cell = el('td', { class: 'meter-cell', 'data-device': d.id, onclick: () => trend(d, metric) }, value, el('div', { class: 'sub' }, age));
    const u = () => {
      const m = live(d.id)?.metrics[metric];
      setText(value, metricText(m));
      setAttr(cell, 'data-quality', m?.quality ?? null);
      setAttr(cell, 'data-status', live(d.id)?.status ?? null);
      setText(age, m ? `${i18n.label('quality', m.quality)} · ${serverAge(m.ts)}` : '');
    };
    on(d.id, u);
    ageUpdaters.push(u);
    return cell;
  };
  const meterRows = [...units.entries()].map(([unit, row]) => el('tr', {}, el('td', {}, content(unit)), ...METER_KINDS.map((k) => meterCell(row[k]))));

  const section = (title: string, cls: string, items: HTMLElement[]) => (items.length === 0 ? null : el('section', { class: `group ${cls}` }, el('h2', {}, title), el('div', { class: 'cards' }, ...items)));
  const root = el(
    'section',
    { class: 'view building-view', 'data-building': buildingId },
    el('h1', {}, content(building?.name ?? buildingId)),
    el(
      'div',
      { class: 'building-top' },
      el('div', { class: 'building-live' }, section(i18n.t('building.tanks'), 'tanks', tanks), section(i18n.t('building.fire'), 'fire', panels), section(i18n.t('building.doors'), 'doors', doors), section(i18n.t('building.buttons'), 'buttons', buttons)),
      chart.root,
    ),
    meterRows.length === 0
      ? null
      : el(
          'section',
          { class: 'group meters' },
          el('h2', {}, i18n.t('building.meters')),
          el('table', { class: 'meter-table' }, el('thead', {}, el('tr', {}, el('th', {}, i18n.t('building.unit')), ...METER_KINDS.map((k) => el('th', {}, i18n.label('deviceKind', k))))), el('tbody', {}, ...meterRows)),
        ),
  );

  const renderAll = (): void => {
    for (const list of updaters.values()) for (const u of list) u();
    renderZones(store.openAlarms());
  };
  renderAll();
  // Gauges need each tank's height (its site-file params).
  for (const d of byKind('tank')) {
    ctx.api.get<{ params: Record<string, number> }>(`/api/devices/${encodeURIComponent(d.id)}`).then(
      (detail) => {
        if (detail.params.heightMm) heights.set(d.id, detail.params.heightMm);
        for (const u of updaters.get(d.id) ?? []) u();
      },
      () => undefined,
    );
  }
  const firstTank = byKind('tank')[0];
  if (firstTank) trend(firstTank, 'level_mm');

  return {
    root,
    update(dirty: Dirty, tick: boolean) {
      if (dirty.all) return renderAll();
      for (const id of dirty.devices) for (const u of updaters.get(id) ?? []) u();
      if (dirty.alarms) renderZones(store.openAlarms());
      if (tick) for (const u of ageUpdaters) u();
    },
    outdated: () => store.devicesOf(buildingId).length !== devices.length,
    destroy: () => chart.destroy(),
  };
}
