import { AlarmRepository } from './alarm-repository.ts';
import { NotificationRepository } from './notification-repository.ts';
import type { RecordsClient } from './records-client.ts';
import { SessionRepository } from './session-repository.ts';
import { UserRepository } from './user-repository.ts';
import { WorkOrderRepository } from './work-order-repository.ts';

/** Every repository of the records database, over one client. */
export interface Records {
  client: RecordsClient;
  workOrders: WorkOrderRepository;
  alarms: AlarmRepository;
  users: UserRepository;
  sessions: SessionRepository;
  notifications: NotificationRepository;
}

export function recordsOver(client: RecordsClient): Records {
  return {
    client,
    workOrders: new WorkOrderRepository(client),
    alarms: new AlarmRepository(client),
    users: new UserRepository(client),
    sessions: new SessionRepository(client),
    notifications: new NotificationRepository(client),
  };
}
