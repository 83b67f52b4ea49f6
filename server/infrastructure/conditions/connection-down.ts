import type { InfrastructureCondition } from '../infrastructure-condition.ts';

/** A connection of the gateway (a Modbus TCP converter, a serial bus, a DL/T 645 line) is down: its link is closed, or nothing on it answers. */
export const connectionDown: InfrastructureCondition = {
  id: 'connection-down',
  category: 'general',
  severity: 'high',
  title: { en: 'Connection {instance} ({protocol}) down: {count} devices unreachable', zh: '通讯链路 {instance}（{protocol}）中断：{count} 台设备无法访问' },
  evaluate(status, { topology }) {
    if (!status.online || status.connections === undefined) return undefined;
    return status.connections.map((c) => {
      const reported = c.devices.filter((d) => topology.has(d));
      return {
        instance: c.id,
        active: c.state === 'down',
        since: c.since,
        dependents: reported.length > 0 ? reported : topology.devicesOn(c.id),
        vars: { protocol: c.protocol },
        details: { protocol: c.protocol },
      };
    });
  },
};
