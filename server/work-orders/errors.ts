import type { WorkOrderAction, WorkOrderState } from './types.ts';

/** Base of the work-order errors; statusCode is what an HTTP layer should answer. */
export class WorkOrderError extends Error {
  override name = 'WorkOrderError';
  readonly statusCode: number = 400;
}

export class WorkOrderNotFoundError extends WorkOrderError {
  override name = 'WorkOrderNotFoundError';
  override readonly statusCode = 404;
  constructor(readonly id: number) {
    super(`work order ${id} does not exist`);
  }
}

/** The action is not allowed in the work order's state (or for its category right now). */
export class WorkOrderTransitionError extends WorkOrderError {
  override name = 'WorkOrderTransitionError';
  override readonly statusCode = 409;
  constructor(
    readonly id: number,
    readonly action: WorkOrderAction,
    readonly state: WorkOrderState,
    readonly allowed: readonly WorkOrderAction[],
    reason?: string,
  ) {
    super(
      `work order ${id}: cannot ${action} in state ${state}` +
        (reason ? ` (${reason})` : '') +
        `; allowed now: ${allowed.length ? allowed.join(', ') : 'nothing'}`,
    );
  }
}

/** The input names something that does not exist or a value that makes no sense; `field` is the one a message starts with (`retryAt: …`). */
export class WorkOrderInputError extends WorkOrderError {
  override name = 'WorkOrderInputError';
  override readonly statusCode = 400;
  readonly field: string | undefined;
  constructor(message: string) {
    super(message);
    this.field = /^([A-Za-z]+): /.exec(message)?.[1];
  }
}

/** The user may act on work orders but not on this one in this way (a repairer checking or calling back their own repair). */
export class WorkOrderPermissionError extends WorkOrderError {
  override name = 'WorkOrderPermissionError';
  override readonly statusCode = 403;
}
