import type { InfrastructureCondition } from '../infrastructure-condition.ts';

/** The gateway itself is unreachable: its last will, or its clean stop, says `online: false`. */
export const gatewayOffline: InfrastructureCondition = {
  id: 'gateway-offline',
  category: 'general',
  severity: 'high',
  title: { en: 'Gateway {gateway} offline: {count} devices unreachable', zh: '网关 {gateway} 离线：{count} 台设备无法访问' },
  evaluate(status, { topology, receivedAt }) {
    return [
      {
        instance: '',
        active: !status.online,
        // A will's ts is when its connection was attempted; the gateway was lost when the broker said so.
        since: status.online ? (status.since ?? status.ts) : Math.max(status.ts, receivedAt),
        dependents: topology.devicesBehind(status.gateway),
      },
    ];
  },
};
