import { describe, expect, it } from 'vitest';
import { EstateStore } from '../dashboard/src/state/estate-store.ts';
import { bannerAlarms } from '../dashboard/src/views/alarm-banner.ts';
import { compareAlarms } from '../dashboard/src/views/alarm-list-view.ts';
import { missedDeadlines, workOrderKpis } from '../dashboard/src/state/work-order-kpi.ts';
import type { Alarm, Snapshot, WorkOrder } from '../dashboard/src/types.ts';

const H = 3_600_000;

function ticket(over: Partial<WorkOrder>): WorkOrder {
  return {
    id: 1, source: 'alarm', category: 'general', priority: 'medium', state: 'open', title: 't', detail: '', building: 'B1', unit: null, deviceId: null, ruleId: null,
    reporter: null, peopleTrapped: false, complaintType: null, followUp: 'callback', assigneeUserId: null, assigneeTeamId: null, createdAt: 0, updatedAt: 0, acknowledgedAt: null,
    startedAt: null, resolvedAt: null, resolvedBy: null, leakTestAt: null, qualityCheckedAt: null, qualityCheckedBy: null, callbackAt: null, callbackOutcome: null,
    callbackAttempts: 0, satisfaction: null, verifiedAt: null, closedAt: null, reopenedAt: null, responseDueAt: H, replyDueAt: null, repliedAt: null, callbackDueAt: null,
    callbackStatus: 'not-resolved', escalationLevel: 0, escalatedAt: null, repairItem: null, cost: null, occurrences: 1, reopenCount: 0, overdue: [], allowedActions: [], ...over,
  };
}

function alarm(over: Partial<Alarm>): Alarm {
  return {
    id: 'a1', key: 'B1-fire/fire-zone-alarm/z1', ruleId: 'fire-zone-alarm', device: 'B1-fire', building: 'B1', kind: 'fire-panel', category: 'fire-safety', severity: 'critical',
    title: { en: 'FIRE', zh: '火警' }, state: 'active-unacknowledged', conditionActive: true, raisedAt: 10, lastTripAt: 10, updatedAt: 10, occurrences: 1, chattering: false, ...over,
  };
}

const snapshot = (over: Partial<Snapshot> = {}): Snapshot => ({ at: 1_000, buildings: ['B1'], status: [], devices: [], alarms: [], tickets: [], ...over });

describe('the screen\'s live picture (EstateStore)', () => {
  it('replaces everything with each snapshot and learns the server clock from it', () => {
    let now = 500;
    const store = new EstateStore(() => now);
    store.apply({ type: 'snapshot', body: snapshot({ alarms: [alarm({})], tickets: [ticket({})] }) });
    expect(store.serverNow()).toBe(1_000);
    now = 600;
    expect(store.serverNow()).toBe(1_100);
    expect(store.takeDirty().all).toBe(true);
    store.apply({ type: 'snapshot', body: snapshot() });
    expect(store.alarms.size).toBe(0);
    expect(store.tickets.size).toBe(0);
  });

  it('drops an alarm once it is cleared and acknowledged, a work order once closed, and ignores an older copy', () => {
    const store = new EstateStore(() => 0);
    store.apply({ type: 'snapshot', body: snapshot({ alarms: [alarm({})], tickets: [ticket({})] }) });
    store.takeDirty();
    store.apply({ type: 'alarm:updated', body: { alarm: alarm({ state: 'active-acknowledged', updatedAt: 20 }), critical: true } });
    store.apply({ type: 'alarm:raised', body: { alarm: alarm({ updatedAt: 15 }), critical: true } });
    expect(store.alarms.get('a1')?.state).toBe('active-acknowledged');
    store.apply({ type: 'alarm:cleared', body: { alarm: alarm({ state: 'cleared', updatedAt: 30 }), critical: true } });
    expect(store.alarms.size).toBe(0);
    store.apply({ type: 'ticket:changed', body: { ticket: ticket({ state: 'closed', updatedAt: 5 }), event: {} as never, critical: false } });
    expect(store.tickets.size).toBe(0);
    const dirty = store.takeDirty();
    expect(dirty).toMatchObject({ all: false, alarms: true, tickets: true });
    expect([...dirty.buildings]).toEqual(['B1']);
    expect(store.isDirty()).toBe(false);
  });

  it('keeps the newest state of a device when an older delta arrives late', () => {
    const store = new EstateStore(() => 0);
    const device = (lastSeen: number) => ({ id: 'd', building: 'B1', kind: 'tank', name: 'T', status: 'online' as const, lastSeen, metrics: {} });
    store.apply({ type: 'device:state', body: { building: 'B1', devices: [device(20)] } });
    store.apply({ type: 'device:state', body: { building: 'B1', devices: [device(10)] } });
    expect(store.devices.get('d')?.lastSeen).toBe(20);
  });
});

describe('deadlines and KPIs of the work-order board', () => {
  it('turns a work order overdue as time passes, without a message (response, reply, callback or verification)', () => {
    const w = ticket({ responseDueAt: H });
    expect(missedDeadlines(w, H)).toEqual([]);
    expect(missedDeadlines(w, H + 1)).toEqual(['response']);
    expect(missedDeadlines({ ...w, state: 'acknowledged' }, H + 1)).toEqual([]);
    const resolved = ticket({ state: 'quality_checked', acknowledgedAt: 1, callbackDueAt: 48 * H });
    expect(missedDeadlines(resolved, 48 * H + 1)).toEqual(['callback']);
    expect(missedDeadlines({ ...resolved, followUp: 'verification' }, 48 * H + 1)).toEqual(['verification']);
    expect(missedDeadlines({ ...resolved, state: 'callback_done' }, 48 * H + 1)).toEqual([]);
    expect(missedDeadlines({ ...resolved, state: 'verified', followUp: 'verification' }, 48 * H + 1)).toEqual([]);
    const complaint = ticket({ source: 'complaint', state: 'in_progress', acknowledgedAt: 1, replyDueAt: 72 * H });
    expect(missedDeadlines(complaint, 72 * H + 1)).toEqual(['reply']);
    expect(missedDeadlines({ ...complaint, repliedAt: 5 * H }, 72 * H + 1)).toEqual([]);
  });

  it('counts responses, replies and callbacks on time, overdue and escalated work orders and leak tests pending', () => {
    const k = workOrderKpis(
      [
        ticket({ id: 1, state: 'acknowledged', acknowledgedAt: H - 1 }),
        ticket({ id: 2, state: 'acknowledged', acknowledgedAt: H + 1 }),
        ticket({ id: 3, state: 'open' }),
        ticket({ id: 4, state: 'closed', acknowledgedAt: 1, callbackAt: 10, callbackDueAt: 20 }),
        ticket({ id: 5, state: 'quality_checked', category: 'water-leak', acknowledgedAt: 1, leakTestAt: null }),
        ticket({ id: 6, state: 'resolved', acknowledgedAt: 1, callbackDueAt: 2 * H, escalationLevel: 1 }),
        ticket({ id: 7, state: 'verified', followUp: 'verification', acknowledgedAt: 1, callbackDueAt: 2 * H, verifiedAt: H }),
        ticket({ id: 8, state: 'in_progress', source: 'complaint', acknowledgedAt: 1, replyDueAt: 2 * H, repliedAt: H }),
        ticket({ id: 9, state: 'in_progress', source: 'complaint', acknowledgedAt: 1, replyDueAt: 2 * H }),
      ],
      3 * H,
    );
    expect(k.responseOnTime).toEqual({ met: 7, total: 9 });
    expect(k.callbackOnTime).toEqual({ met: 1, total: 2 });
    expect(k.replyOnTime).toEqual({ met: 1, total: 2 });
    expect(k.overdue).toBe(3);
    expect(k.escalated).toBe(1);
    expect(k.leakTestPending).toBe(1);
    expect(k.open).toBe(8);
  });
});

describe('which alarms take over the screen', () => {
  it('unacknowledged critical alarms, newest first; not shelved, suppressed, acknowledged or less severe ones', () => {
    const shown = bannerAlarms([
      alarm({ id: 'fire', raisedAt: 10 }),
      alarm({ id: 'sos-returned', state: 'cleared-unacknowledged', raisedAt: 20 }),
      alarm({ id: 'acknowledged', state: 'active-acknowledged' }),
      alarm({ id: 'shelved', shelved: { by: 'x', reason: 'test', at: 0, until: 1 } }),
      alarm({ id: 'flood-child', suppressed: true, suppressedBy: 'flood-1' }),
      alarm({ id: 'door', severity: 'high' }),
    ]);
    expect(shown.map((a) => a.id)).toEqual(['sos-returned', 'fire']);
  });

  it('lists alarms most severe first, then unacknowledged, then newest', () => {
    const list = [
      alarm({ id: 'low', severity: 'low', raisedAt: 99 }),
      alarm({ id: 'crit-acked', state: 'active-acknowledged', raisedAt: 50 }),
      alarm({ id: 'crit-old', raisedAt: 1 }),
      alarm({ id: 'crit-new', raisedAt: 2 }),
    ].sort(compareAlarms);
    expect(list.map((a) => a.id)).toEqual(['crit-new', 'crit-old', 'crit-acked', 'low']);
  });
});
