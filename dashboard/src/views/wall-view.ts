import { content, el, setAttr, setText } from '../dom.ts';
import type { Dirty } from '../state/estate-store.ts';
import type { AppContext, View } from './view.ts';

interface Tile {
  root: HTMLElement;
  condition: HTMLElement;
  alarms: HTMLElement;
  unacknowledged: HTMLElement;
  offline: HTMLElement;
  devices: HTMLElement;
  workOrders: HTMLElement;
}

/**
 * The estate wall: one tile per building, its condition (alarm, warning, offline, normal) in colour
 * and in words, and three numbers large enough to read across the duty room.
 */
export function wallView(ctx: AppContext): View {
  const { i18n, store, site } = ctx;
  const tiles = new Map<string, Tile>();
  const grid = el('div', { class: 'wall-grid' });
  for (const b of site.buildings) {
    const count = (label: string, value: HTMLElement, extra?: HTMLElement) => el('div', { class: 'tile-count' }, value, el('div', { class: 'tile-count-label' }, label), extra);
    const tile: Tile = {
      root: el('a', { class: 'tile', href: `#/building/${encodeURIComponent(b.id)}`, 'data-building': b.id }),
      condition: el('div', { class: 'tile-condition' }),
      alarms: el('div', { class: 'tile-number', 'data-count': 'alarms' }),
      unacknowledged: el('div', { class: 'tile-sub attention' }),
      offline: el('div', { class: 'tile-number', 'data-count': 'offline' }),
      devices: el('div', { class: 'tile-sub' }),
      workOrders: el('div', { class: 'tile-number', 'data-count': 'work-orders' }),
    };
    tile.root.append(
      el('div', { class: 'tile-head' }, content(b.name, 'div', 'tile-name'), el('div', { class: 'tile-type' }, i18n.label('buildingType', b.type), ' · ', i18n.t('wall.units', { n: b.units }))),
      tile.condition,
      el(
        'div',
        { class: 'tile-counts' },
        count(i18n.t('wall.activeAlarms'), tile.alarms, tile.unacknowledged),
        count(i18n.t('wall.offlineDevices'), tile.offline, tile.devices),
        count(i18n.t('wall.openWorkOrders'), tile.workOrders),
      ),
    );
    tiles.set(b.id, tile);
    grid.append(tile.root);
  }
  const root = el('section', { class: 'view wall-view' }, grid);

  const render = (id: string): void => {
    const tile = tiles.get(id);
    const s = store.status.get(id);
    if (!tile) return;
    const condition = s?.condition ?? 'offline';
    setAttr(tile.root, 'data-condition', s ? condition : 'unknown');
    setText(tile.condition, s ? i18n.label('buildingCondition', condition) : i18n.t('conn.connecting'));
    setText(tile.alarms, String(s?.alarms.active ?? 0));
    setText(tile.unacknowledged, s && s.alarms.unacknowledged > 0 ? i18n.t('wall.unacknowledged', { n: s.alarms.unacknowledged }) : '');
    setText(tile.offline, String(s?.devices.offline ?? 0));
    setText(tile.devices, s ? i18n.t('wall.devices', { online: s.devices.online, total: s.devices.total }) : '');
    let open = 0;
    for (const w of store.tickets.values()) if (w.building === id) open++;
    setText(tile.workOrders, String(open));
  };
  for (const id of tiles.keys()) render(id);

  return {
    root,
    update(dirty: Dirty) {
      if (dirty.all || dirty.tickets) for (const id of tiles.keys()) render(id);
      else for (const id of dirty.buildings) render(id);
    },
  };
}
