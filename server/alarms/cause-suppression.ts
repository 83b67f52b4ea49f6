import type { AlarmPoint } from './alarm.ts';

/** How long a child still silent after its cause returned waits before raising its own alarm. */
export const DEFAULT_SUPPRESSION_GRACE_MS = 120_000;

/**
 * Suppression by cause (ISA-18.2 designed suppression, EEMUA 191 "consequential alarms"). A cause
 * is an alarm point something depends on: a gateway (every device behind it), a connection (the
 * devices on that Modbus converter, serial bus or DL/T 645 line). While a cause is in alarm, the
 * `offline` alarms its dependents raise are consequences: recorded, not announced. When it
 * returns, each child gets `graceMs` to be heard again before its own alarm is announced.
 */
export class CauseSuppression {
  /** Causes in alarm, with the devices depending on them. */
  private readonly down = new Map<string, ReadonlySet<string>>();
  /** When each cause last returned to normal. */
  private readonly returnedAt = new Map<string, number>();

  constructor(
    readonly graceMs: number = DEFAULT_SUPPRESSION_GRACE_MS,
    /** When the service started: the grace of a child whose cause it never saw return counts from here. */
    private readonly startedAt: number = Date.now(),
  ) {}

  /** A cause is in alarm (or its dependents changed). */
  causeDown(key: string, dependents: Iterable<string>): void {
    this.down.set(key, new Set(dependents));
    this.returnedAt.delete(key);
  }

  /** A cause returned to normal at `ts`. */
  causeReturned(key: string, ts: number): void {
    if (!this.down.delete(key)) return;
    this.returnedAt.set(key, ts);
  }

  /** Causes in alarm now. */
  causes(): string[] {
    return [...this.down.keys()];
  }

  /** The cause in alarm that an alarm of `point` is a consequence of, if any. */
  causeOf(point: Pick<AlarmPoint, 'ruleType' | 'device' | 'key'>): string | undefined {
    if (point.ruleType !== 'offline') return undefined;
    for (const [key, dependents] of this.down) if (key !== point.key && dependents.has(point.device)) return key;
    return undefined;
  }

  /** When an alarm suppressed by `cause` may be announced, if its cause no longer holds. */
  releaseAt(cause: string): number {
    return (this.returnedAt.get(cause) ?? this.startedAt) + this.graceMs;
  }
}
