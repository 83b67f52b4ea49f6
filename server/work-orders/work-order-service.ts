import { createLogger, type Logger } from '../../common/logger.ts';
import type { StoredChange, WorkOrderRepository } from '../records/work-order-repository.ts';
import { DEFAULT_DEADLINE_RULES, type DeadlineRules } from './deadlines.ts';
import type { ActionPayloads, AlarmInput, CreateWorkOrderInput, WorkOrder, WorkOrderAction, WorkOrderChange, WorkOrderEvent } from './types.ts';
import {
  actionReferences,
  alarmOccurrence,
  applyAction,
  createWorkOrder,
  creationReferences,
  escalateOverdue,
  raiseWorkOrder,
  type Creation,
  type Decision,
  type DecisionContext,
} from './work-order-actions.ts';
import type { WorkOrderSettings } from './work-order-settings.ts';
import { toWorkOrder } from './work-order-view.ts';

export const DEFAULT_WORK_ORDER_SETTINGS: WorkOrderSettings = { rules: DEFAULT_DEADLINE_RULES, webhook: null, contacts: {}, emergencyTeam: [] };

export interface WorkOrderServiceOptions {
  records: WorkOrderRepository;
  clock?: () => number;
  /** Called after each committed change, once per timeline entry it wrote, in order. Errors are logged, not thrown. */
  onChange?: (workOrder: WorkOrder, event: WorkOrderEvent) => void;
  /** Called after a change that left notices for the webhook, so that they are sent now. */
  onNotices?: () => void;
  /** The estate's settings (site file `workOrders`); the defaults without a webhook or an emergency team. */
  settings?: WorkOrderSettings;
  logger?: Logger;
}

/**
 * What changes work orders (docs/domain.md rules 3, 4, 7, 9): creation by hand or from alarms (one
 * open work order per device and rule), people's actions and the escalation of missed deadlines,
 * each with its timeline entries (and the notices for the webhook) in one transaction. Input comes
 * validated from the API's schemas; the service checks the domain rules (state transitions, who may
 * check or call back a repair, users and teams that exist, times). Reading is WorkOrderQueries'.
 */
export class WorkOrderService {
  readonly settings: WorkOrderSettings;
  private readonly records: WorkOrderRepository;
  private readonly clock: () => number;
  private readonly onChange: ((workOrder: WorkOrder, event: WorkOrderEvent) => void) | undefined;
  private readonly onNotices: (() => void) | undefined;
  private readonly context: DecisionContext;
  private readonly log: Logger;

  constructor(options: WorkOrderServiceOptions) {
    this.records = options.records;
    this.clock = options.clock ?? Date.now;
    this.onChange = options.onChange;
    this.onNotices = options.onNotices;
    this.settings = options.settings ?? DEFAULT_WORK_ORDER_SETTINGS;
    this.context = { rules: this.settings.rules, emergencyTeam: this.settings.emergencyTeam.length > 0 };
    this.log = options.logger ?? createLogger('work-orders');
  }

  get rules(): DeadlineRules {
    return this.settings.rules;
  }

  /** A work order recorded by a person (repair request, complaint, inspection finding, handover defect). */
  async create(input: CreateWorkOrderInput): Promise<WorkOrderChange> {
    const now = this.clock();
    const stored = await this.records.create(creationReferences(input), (facts) => this.deliverable(createWorkOrder(input, now, facts, this.context)));
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
      open ? { created: false, ...alarmOccurrence(open, input, now) } : { created: true, ...this.deliverable(raiseWorkOrder(input, now, this.context, related)) },
    );
    return { ...this.committed(stored), created: stored.created };
  }

  /** Applies one action by user `by`; throws WorkOrderTransitionError when the state does not allow it. */
  async act<A extends WorkOrderAction>(id: number, action: A, by: number, payload: ActionPayloads[A]): Promise<WorkOrderChange> {
    const command = { action, by, payload, now: this.clock() };
    const stored = await this.records.act(id, actionReferences(command), (current, facts) => this.deliverable(applyAction(current, command, facts, this.context)));
    return this.committed(stored);
  }

  /**
   * Escalates every work order past a deadline it has not been escalated for (domain rule 9): one
   * level up, an `escalate` entry, a notice for the webhook. Run by the escalation timer and by tests.
   */
  async escalateOverdue(now: number = this.clock()): Promise<WorkOrderChange[]> {
    const stored = await this.records.escalate(now, (current) => {
      const decision = escalateOverdue(current, now);
      return decision && this.deliverable(decision);
    });
    return stored.map((s) => this.committed(s));
  }

  /** Notices are kept only when there is a webhook to send them to. */
  private deliverable<T extends Decision | Creation>(change: T): T {
    if (this.settings.webhook === null && change.notices) {
      const { notices: _dropped, ...rest } = change;
      return rest as T;
    }
    return change;
  }

  private committed({ record, event, also }: StoredChange): WorkOrderChange {
    const workOrder = toWorkOrder(record, this.clock());
    for (const e of [event, ...also]) {
      try {
        this.onChange?.(workOrder, e);
      } catch (err) {
        this.log.error({ err, workOrder: record.id, action: e.action }, 'work-order change listener failed');
      }
    }
    if (this.settings.webhook !== null && [event, ...also].some((e) => e.action === 'escalate' || e.action === 'page')) this.onNotices?.();
    return { workOrder, event };
  }
}
