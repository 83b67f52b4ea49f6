import { createLogger, type Logger } from '../../common/logger.ts';
import type { StoredChange, WorkOrderRepository } from '../records/work-order-repository.ts';
import { DEFAULT_DEADLINE_RULES, type DeadlineRules } from './deadlines.ts';
import type { ActionPayloads, AlarmInput, CreateWorkOrderInput, WorkOrder, WorkOrderAction, WorkOrderChange, WorkOrderEvent } from './types.ts';
import { actionReferences, alarmOccurrence, applyAction, createWorkOrder, creationReferences, raiseWorkOrder } from './work-order-actions.ts';
import { toWorkOrder } from './work-order-view.ts';

export interface WorkOrderServiceOptions {
  records: WorkOrderRepository;
  clock?: () => number;
  /** Called after each committed change (creation, occurrence, action). Errors are logged, not thrown. */
  onChange?: (workOrder: WorkOrder, event: WorkOrderEvent) => void;
  rules?: DeadlineRules;
  logger?: Logger;
}

/**
 * What changes work orders (docs/domain.md rules 3, 4, 7): creation by hand or from alarms (one
 * open work order per device and rule) and people's actions, each with its timeline entry in one
 * transaction. Input comes validated from the API's schemas; the service checks the domain rules
 * (state transitions, users and teams that exist, leak-test times). Reading is WorkOrderQueries'.
 */
export class WorkOrderService {
  readonly rules: DeadlineRules;
  private readonly records: WorkOrderRepository;
  private readonly clock: () => number;
  private readonly onChange: ((workOrder: WorkOrder, event: WorkOrderEvent) => void) | undefined;
  private readonly log: Logger;

  constructor(options: WorkOrderServiceOptions) {
    this.records = options.records;
    this.clock = options.clock ?? Date.now;
    this.onChange = options.onChange;
    this.rules = options.rules ?? DEFAULT_DEADLINE_RULES;
    this.log = options.logger ?? createLogger('work-orders');
  }

  /** A work order recorded by a person (repair call, complaint, inspection finding, handover defect). */
  async create(input: CreateWorkOrderInput): Promise<WorkOrderChange> {
    const now = this.clock();
    const stored = await this.records.create(creationReferences(input), (facts) => createWorkOrder(input, now, facts, this.rules));
    return this.committed(stored);
  }

  /**
   * An alarm from the rules engine. While a work order for the same alarm point (device, rule and
   * instance: a fire zone is a problem of its own) is not closed, a repeat adds an occurrence to it
   * instead of opening another. A new one names the device's other open work orders.
   */
  async raiseFromAlarm(input: AlarmInput): Promise<WorkOrderChange & { created: boolean }> {
    const now = this.clock();
    const point = { deviceId: input.deviceId, ruleId: input.ruleId, instance: input.instance ?? '' };
    const stored = await this.records.raiseForAlarm(point, (open, related) =>
      open ? { created: false, ...alarmOccurrence(open, input, now) } : { created: true, ...raiseWorkOrder(input, now, this.rules, related) },
    );
    return { ...this.committed(stored), created: stored.created };
  }

  /** Applies one action by user `by`; throws WorkOrderTransitionError when the state does not allow it. */
  async act<A extends WorkOrderAction>(id: number, action: A, by: number, payload: ActionPayloads[A]): Promise<WorkOrderChange> {
    const command = { action, by, payload, now: this.clock() };
    const stored = await this.records.act(id, actionReferences(command), (current, facts) => applyAction(current, command, facts, this.rules));
    return this.committed(stored);
  }

  private committed({ record, event }: StoredChange): WorkOrderChange {
    const change = { workOrder: toWorkOrder(record, this.clock()), event };
    if (this.onChange) {
      try {
        this.onChange(change.workOrder, change.event);
      } catch (err) {
        this.log.error({ err, workOrder: record.id, action: event.action }, 'work-order change listener failed');
      }
    }
    return change;
  }
}
