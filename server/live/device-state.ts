import { EventEmitter } from 'node:events';
import type { DeviceEvent, DeviceKind, Quality, Reading } from '../../common/reading.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import type { GatewayStatus, UpstreamState } from '../../common/topics.ts';

/** `unknown`: not heard since the server started and no offline alarm either. */
export type DeviceStatus = 'online' | 'offline' | 'unknown';

export interface LiveMetric {
  value: number | null;
  quality: Quality;
  ts: number;
  engUnit?: string;
}

export interface DeviceLiveState {
  id: string;
  building: string;
  kind: DeviceKind;
  name: string;
  unit?: string;
  status: DeviceStatus;
  /** When the status last changed (epoch ms); absent while unknown. */
  statusSince?: number;
  /** Device time of the newest reading or event. */
  lastSeen?: number;
  gateway?: string;
  metrics: Record<string, LiveMetric>;
  lastEvent?: { event: string; ts: number; attrs: DeviceEvent['attrs'] };
}

export interface GatewayLiveStatus {
  id: string;
  online: boolean;
  /** Time the gateway stated in its status message. */
  ts: number;
  /** When the gateway's upstream connection that the message belongs to was attempted. */
  since?: number;
}

/**
 * Whether `next` is news after `known` (docs/upstream.md). Statuses count in the order they arrive,
 * except an `online: false` of an earlier connection (its `since`, or `ts` from a gateway that does
 * not send it, older than the known status's): the late last will of a connection that has been
 * replaced says nothing about the gateway now. A gateway saying it is online always is.
 */
export function isNewerGatewayStatus(known: Pick<GatewayStatus, 'online' | 'ts' | 'since'> | undefined, next: Pick<GatewayStatus, 'online' | 'ts' | 'since'>): boolean {
  if (!known || next.online) return true;
  return (next.since ?? next.ts) >= (known.since ?? known.ts);
}

export interface LiveStateEvents {
  /** A device's metrics, status or last event changed. Listeners read the state with get(). */
  changed: [deviceId: string, building: string];
  gateway: [status: GatewayLiveStatus];
}

/**
 * The latest known state of every device of the site: values per metric, last seen, online or
 * offline. Offline is what the rules engine says (its `offline` alarms), so a reading replayed
 * from a gateway's outbox does not bring a device back.
 */
export class LiveDeviceState extends EventEmitter<LiveStateEvents> {
  private readonly devices = new Map<string, DeviceLiveState>();
  private readonly offline = new Set<string>();
  private readonly gatewayStatus = new Map<string, GatewayLiveStatus>();

  constructor(site: Pick<SiteConfig, 'devices'>) {
    super();
    for (const d of site.devices) {
      this.devices.set(d.id, { id: d.id, building: d.building, kind: d.kind, name: d.name, ...(d.unit !== undefined ? { unit: d.unit } : {}), status: 'unknown', metrics: {} });
    }
  }

  /** The building a device of the site belongs to. */
  buildingOf(deviceId: string): string | undefined {
    return this.devices.get(deviceId)?.building;
  }

  /**
   * Merges a state message and returns the metrics newer than what was known, as readings (a
   * retained or repeated state yields none).
   */
  applyState(deviceId: string, state: UpstreamState): Reading[] {
    const d = this.devices.get(deviceId);
    if (!d) return [];
    const fresh: Reading[] = [];
    let newest = d.lastSeen ?? -Infinity;
    for (const [metric, m] of Object.entries(state.metrics)) {
      const known = d.metrics[metric];
      if (known && known.ts >= m.ts) continue;
      d.metrics[metric] = m.engUnit !== undefined ? { value: m.value, quality: m.quality, ts: m.ts, engUnit: m.engUnit } : { value: m.value, quality: m.quality, ts: m.ts };
      const r: Reading = { building: d.building, device: d.id, kind: d.kind, metric, value: m.value, ts: m.ts, quality: m.quality };
      if (d.unit !== undefined) r.unit = d.unit;
      if (m.engUnit !== undefined) r.engUnit = m.engUnit;
      fresh.push(r);
      if (m.quality !== 'bad' && m.ts > newest) newest = m.ts;
    }
    d.gateway = state.gateway;
    if (fresh.length === 0) return fresh;
    if (Number.isFinite(newest)) this.seen(d, newest);
    this.emit('changed', d.id, d.building);
    return fresh;
  }

  applyEvent(e: DeviceEvent, gateway?: string): void {
    const d = this.devices.get(e.device);
    if (!d) return;
    if (gateway !== undefined) d.gateway = gateway;
    if (!d.lastEvent || e.ts >= d.lastEvent.ts) d.lastEvent = { event: e.event, ts: e.ts, attrs: e.attrs };
    this.seen(d, e.ts);
    this.emit('changed', d.id, d.building);
  }

  /** The rules engine raised an offline alarm for the device. */
  markOffline(deviceId: string, ts: number): void {
    const d = this.devices.get(deviceId);
    if (!d) return;
    this.offline.add(deviceId);
    if (d.status === 'offline') return;
    d.status = 'offline';
    d.statusSince = ts;
    this.emit('changed', d.id, d.building);
  }

  /** The device's offline alarm returned to normal. */
  markOnline(deviceId: string, ts: number): void {
    const d = this.devices.get(deviceId);
    if (!d || !this.offline.delete(deviceId)) return;
    d.status = 'online';
    d.statusSince = ts;
    this.emit('changed', d.id, d.building);
  }

  /** Keeps the gateway's status if it is news (isNewerGatewayStatus); false when it is not. */
  setGatewayStatus(s: GatewayStatus): boolean {
    if (!isNewerGatewayStatus(this.gatewayStatus.get(s.gateway), s)) return false;
    const status: GatewayLiveStatus = { id: s.gateway, online: s.online, ts: s.ts, ...(s.since !== undefined ? { since: s.since } : {}) };
    this.gatewayStatus.set(s.gateway, status);
    this.emit('gateway', { ...status });
    return true;
  }

  gateways(): GatewayLiveStatus[] {
    return [...this.gatewayStatus.values()].map((g) => ({ ...g }));
  }

  get(deviceId: string): DeviceLiveState | undefined {
    const d = this.devices.get(deviceId);
    return d && structuredClone(d);
  }

  /** Every device of the site (optionally of some buildings), in site order. */
  list(buildings?: ReadonlySet<string>): DeviceLiveState[] {
    const out: DeviceLiveState[] = [];
    for (const d of this.devices.values()) if (!buildings || buildings.has(d.building)) out.push(structuredClone(d));
    return out;
  }

  /** Device counts by status, per building, without copying states. */
  countByStatus(building: string): Record<DeviceStatus, number> {
    const counts: Record<DeviceStatus, number> = { online: 0, offline: 0, unknown: 0 };
    for (const d of this.devices.values()) if (d.building === building) counts[d.status]++;
    return counts;
  }

  private seen(d: DeviceLiveState, ts: number): void {
    if (d.lastSeen === undefined || ts > d.lastSeen) d.lastSeen = ts;
    if (d.status === 'online' || this.offline.has(d.id)) return;
    d.status = 'online';
    d.statusSince = ts;
  }
}
