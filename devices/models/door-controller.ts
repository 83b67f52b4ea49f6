import type { DeviceConfig } from '../../common/site/types.ts';
import type { Random } from '../random.ts';
import { localTime, occupancy, waterDemand, type BuildingType } from './daily-pattern.ts';
import { EventQueue, type DeviceModelBase, type EmittedEvent, type ModelContext } from './model.ts';

/**
 * A door access controller (门禁). People badge in through the day (card_granted, open, closed;
 * now and then card_denied for an unknown card). A door opened without a card reports `forced`;
 * a door left open longer than heldOpenSec (default 30) reports `held_open`. Telemetry: open (0/1).
 * Params: heldOpenSec, meanGapSec (mean time between badge-ins at the busiest hour, default 240).
 */
export class DoorController implements DeviceModelBase {
  readonly kind = 'door';
  open = false;
  forced = false;
  readonly cards: readonly string[];
  readonly heldOpenMs: number;
  private readonly meanGapMs: number;
  private readonly events = new EventQueue();
  private readonly random: Random;
  private readonly timezone: string;
  private readonly buildingType: BuildingType;
  private openedAt = 0;
  private closeAt = 0;
  private heldOpenReported = false;
  private nextVisitAt: number | undefined;

  constructor(
    readonly config: DeviceConfig,
    ctx: ModelContext,
  ) {
    this.random = ctx.random;
    this.timezone = ctx.timezone;
    this.buildingType = ctx.buildingType;
    this.heldOpenMs = (config.params.heldOpenSec ?? 30) * 1000;
    this.meanGapMs = (config.params.meanGapSec ?? 240) * 1000;
    this.cards = Array.from({ length: 24 }, () => cardId(this.random));
  }

  /** The door is opened without a card (break-in, or someone pushing an exit door from outside). */
  force(nowMs: number): void {
    if (this.forced) return;
    this.forced = true;
    this.markOpen(nowMs);
    this.events.push(nowMs, 'forced');
  }

  /** Someone closes the door (ends a forced or held-open state). */
  close(nowMs: number): void {
    if (this.forced) {
      this.forced = false;
      this.nextVisitAt = undefined;
    }
    if (!this.open) return;
    this.open = false;
    this.events.push(nowMs, 'closed');
  }

  /** A card at the reader: granted cards open the door for a few seconds. */
  badge(card: string, nowMs: number): void {
    if (!this.cards.includes(card)) {
      this.events.push(nowMs, 'card_denied', { card });
      return;
    }
    this.events.push(nowMs, 'card_granted', { card });
    if (!this.open) {
      this.markOpen(nowMs);
      this.events.push(nowMs, 'open');
    }
    this.closeAt = Math.max(this.closeAt, nowMs + this.random.range(3_000, 9_000));
  }

  step(nowMs: number, _dtMs: number): void {
    let next = (this.nextVisitAt ??= nowMs + this.nextGap(nowMs));
    if (!this.forced) {
      while (next <= nowMs) {
        if (this.open && this.closeAt <= next) this.close(this.closeAt);
        this.badge(this.random.chance(0.04) ? cardId(this.random) : this.random.pick(this.cards), next);
        next = next + this.nextGap(next);
      }
      this.nextVisitAt = next;
      if (this.open && this.closeAt <= nowMs) this.close(this.closeAt);
    }
    if (this.open && !this.heldOpenReported && nowMs - this.openedAt >= this.heldOpenMs) {
      this.heldOpenReported = true;
      this.events.push(this.openedAt + this.heldOpenMs, 'held_open');
    }
  }

  metrics(): Record<string, number> {
    return { open: this.open ? 1 : 0 };
  }

  takeEvents(): EmittedEvent[] {
    return this.events.take();
  }

  private markOpen(nowMs: number): void {
    this.open = true;
    this.openedAt = nowMs;
    this.heldOpenReported = false;
  }

  private nextGap(nowMs: number): number {
    const t = localTime(nowMs, this.timezone);
    const traffic = Math.max(0.03, Math.max(waterDemand(t, this.buildingType), occupancy(t, this.buildingType) * 0.3));
    return Math.max(1_000, this.random.exponential(this.meanGapMs / traffic));
  }
}

function cardId(random: Random): string {
  return `C${String(random.int(0, 999_999)).padStart(6, '0')}`;
}
