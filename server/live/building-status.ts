import { ALARM_SEVERITIES, isActive, isUnacknowledged, type Alarm, type AlarmSeverity } from '../alarms/alarm.ts';
import type { LiveDeviceState } from './device-state.ts';

/**
 * `alarm`: an active critical alarm (fire, emergency call); `warning`: any other active alarm;
 * `offline`: no active alarm but devices not reporting; `normal` otherwise.
 */
export type BuildingCondition = 'alarm' | 'warning' | 'offline' | 'normal';

export interface BuildingStatus {
  id: string;
  name: string;
  condition: BuildingCondition;
  devices: { total: number; online: number; offline: number; unknown: number };
  /** Open alarms (active, or returned to normal and not yet acknowledged). */
  alarms: { open: number; active: number; unacknowledged: number; bySeverity: Record<AlarmSeverity, number> };
  /** Most severe active alarm, if any. */
  worstSeverity: AlarmSeverity | null;
}

/** Live status of one building from the device states and the open alarms. */
export function buildingStatus(building: { id: string; name: string }, live: LiveDeviceState, openAlarms: readonly Alarm[]): BuildingStatus {
  const counts = live.countByStatus(building.id);
  const bySeverity = Object.fromEntries(ALARM_SEVERITIES.map((s) => [s, 0])) as Record<AlarmSeverity, number>;
  let open = 0;
  let active = 0;
  let unacknowledged = 0;
  let worst: AlarmSeverity | null = null;
  for (const a of openAlarms) {
    if (a.building !== building.id) continue;
    open++;
    if (isUnacknowledged(a)) unacknowledged++;
    if (!isActive(a)) continue;
    active++;
    bySeverity[a.severity]++;
    if (worst === null || ALARM_SEVERITIES.indexOf(a.severity) < ALARM_SEVERITIES.indexOf(worst)) worst = a.severity;
  }
  const condition: BuildingCondition = worst === 'critical' ? 'alarm' : worst !== null ? 'warning' : counts.offline > 0 ? 'offline' : 'normal';
  return {
    id: building.id,
    name: building.name,
    condition,
    devices: { total: counts.online + counts.offline + counts.unknown, ...counts },
    alarms: { open, active, unacknowledged, bySeverity },
    worstSeverity: worst,
  };
}
