// The gateway alone in a process (MQTT connector, disk outbox, InfluxDB store; no upstream), so
// that its CPU and memory are measured apart from the brokers and the load generator.
import { readEnvironment } from '../../common/env.ts';
import { createLogger } from '../../common/logger.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { startGatewayHttp } from '../../gateway/http-endpoint.ts';
import { serveParent } from '../child-process.ts';
import { ingestSite } from './bench-site.ts';

const [devices, brokerUrl, influxUrl, dataDir] = process.argv.slice(2);
const logger = createLogger('gateway', { level: readEnvironment().logLevel });
const gateway = new Gateway({
  site: ingestSite(Number(devices)),
  dataDir: dataDir!,
  influxUrl,
  deviceBrokerUrl: brokerUrl!,
  upstream: false,
  logger,
});
await gateway.start();
const http = await startGatewayHttp({ port: 0, metrics: gateway.metrics, health: () => gateway.health() });

serveParent({
  async stop() {
    await http.close();
    await gateway.stop();
    return {};
  },
});
process.send?.({ type: 'ready', httpPort: http.port });
