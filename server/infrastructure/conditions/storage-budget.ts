import type { InfrastructureCondition } from '../infrastructure-condition.ts';

/** Share of its disk budget at which a gateway's storage is in alarm: early enough to act before the outbox drops anything. */
export const STORAGE_ALARM_RATIO = 0.8;

const percent = (ratio: number): number => Math.round(ratio * 1000) / 10;

/**
 * The gateway's reading store and outbox use 80 % or more of their disk budget (the `storage`
 * section of its status): someone has to free space, shorten retentions or raise the budget
 * before the outbox starts dropping or refusing readings.
 */
export const storageBudget: InfrastructureCondition = {
  id: 'storage-budget',
  category: 'general',
  severity: 'medium',
  title: {
    en: 'Gateway {gateway} storage at {usedPct} % of its budget ({daysLeft})',
    zh: '网关 {gateway} 存储已用预算的 {usedPct}%（{daysLeftZh}）',
  },
  evaluate(status) {
    const s = status.storage;
    if (!status.online || s === undefined) return undefined;
    const days = s.daysUntilFull === null ? undefined : Math.max(0, Math.floor(s.daysUntilFull));
    return [
      {
        instance: '',
        active: s.usedRatio >= STORAGE_ALARM_RATIO,
        since: s.ts,
        dependents: [],
        vars: {
          usedPct: percent(s.usedRatio),
          daysLeft: days === undefined ? 'not growing' : `full in about ${days} days`,
          daysLeftZh: days === undefined ? '未在增长' : `约 ${days} 天后写满`,
        },
        details: {
          usedBytes: s.usedBytes,
          budgetBytes: s.budgetBytes,
          usedRatio: s.usedRatio,
          ...(s.growthBytesPerDay !== null ? { growthBytesPerDay: s.growthBytesPerDay } : {}),
          ...(s.daysUntilFull !== null ? { daysUntilFull: s.daysUntilFull } : {}),
        },
      },
    ];
  },
};
