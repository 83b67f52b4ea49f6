import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError, readEnvironment, type EnvironmentVariables } from '../common/env.ts';

describe('readEnvironment', () => {
  it('gives the documented defaults for an empty environment', () => {
    const env = readEnvironment({});
    expect(env).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      tls: undefined,
      trustProxy: false,
      metrics: { token: undefined, port: undefined, host: '127.0.0.1' },
      mqttUrl: undefined,
      mqttPort: 1883,
      mqttHost: '127.0.0.1',
      mqttsPort: 8883,
      busLimits: { maxAheadMs: 300_000, maxPacketBytes: 262_144, maxRetained: 10_000 },
      mqttCredential: undefined,
      influxUrl: undefined,
      databaseUrl: undefined,
      dataDir: resolve('./data'),
      logLevel: 'info',
      siteConfig: undefined,
      admin: undefined,
      brokerAccess: { anonymousDevices: undefined },
      gateway: { httpPort: 9102, httpHost: '127.0.0.1', upstreamMqttUrl: undefined, upstreamLogin: undefined, deviceBrokerLogin: undefined },
      scenario: 'normal',
    });
    expect(env.brokerAccess.gateways.size + env.brokerAccess.devices.size).toBe(0);
  });

  it('reads every variable into its typed value', () => {
    const vars: EnvironmentVariables = {
      PORT: '8080',
      HOST: '127.0.0.1',
      MQTT_URL: 'mqtts://broker.example:8883',
      MQTT_PORT: '1884',
      MQTT_HOST: '::',
      MQTT_USERNAME: 'fm',
      MQTT_PASSWORD: 'secret-1',
      INFLUX_URL: 'http://u:p@127.0.0.1:8086/facility',
      DATABASE_URL: 'postgres://facility:pass%40word@db.example:5432/facility?sslmode=require',
      DATA_DIR: '/var/lib/fm',
      LOG_LEVEL: 'debug',
      SITE_CONFIG: '/etc/fm/site.yaml',
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: 'root password 1',
      GATEWAY_CREDENTIALS: 'gw-a:pass:word-1',
      DEVICE_CREDENTIALS: 'panel-1:abcdefgh',
      DEVICE_ANONYMOUS: 'false',
      GATEWAY_HTTP_PORT: '0',
      UPSTREAM_MQTT_URL: 'mqtt://server:1883',
      GATEWAY_MQTT_USERNAME: 'gw-a',
      GATEWAY_MQTT_PASSWORD: 'pass:word-1',
      DEVICE_MQTT_USERNAME: 'site-reader',
      SCENARIO: 'fire',
      T1_PLC_HOST: '10.0.0.5',
      TRUST_PROXY: '10.0.0.1, 192.168.0.0/16',
      METRICS_TOKEN: '0123456789abcdef',
      METRICS_PORT: '9464',
      MQTTS_PORT: '8884',
      BUS_MAX_AHEAD_MS: '60000',
      MQTT_MAX_PACKET_BYTES: '65536',
      MQTT_MAX_RETAINED: '500',
      GATEWAY_HTTP_HOST: '0.0.0.0',
    };
    const env = readEnvironment(vars);
    expect(env).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      trustProxy: ['10.0.0.1', '192.168.0.0/16'],
      metrics: { token: '0123456789abcdef', port: 9464, host: '127.0.0.1' },
      mqttsPort: 8884,
      busLimits: { maxAheadMs: 60_000, maxPacketBytes: 65_536, maxRetained: 500 },
      mqttUrl: 'mqtts://broker.example:8883',
      mqttPort: 1884,
      mqttHost: '::',
      mqttCredential: { username: 'fm', password: 'secret-1' },
      influxUrl: 'http://u:p@127.0.0.1:8086/facility',
      databaseUrl: 'postgres://facility:pass%40word@db.example:5432/facility?sslmode=require',
      dataDir: '/var/lib/fm',
      logLevel: 'debug',
      siteConfig: '/etc/fm/site.yaml',
      admin: { username: 'root', password: 'root password 1' },
      brokerAccess: { anonymousDevices: false },
      gateway: {
        httpPort: 0,
        httpHost: '0.0.0.0',
        upstreamMqttUrl: 'mqtt://server:1883',
        upstreamLogin: { username: 'gw-a', password: 'pass:word-1' },
        deviceBrokerLogin: { username: 'site-reader' },
      },
      scenario: 'fire',
    });
    expect([...env.brokerAccess.gateways]).toEqual([['gw-a', 'pass:word-1']]);
    expect([...env.brokerAccess.devices]).toEqual([['panel-1', 'abcdefgh']]);
    expect(env.siteVariables.T1_PLC_HOST).toBe('10.0.0.5');
  });

  it('binds MQTT to HOST unless MQTT_HOST says otherwise; TRUST_PROXY takes true, false or a number of hops', () => {
    expect(readEnvironment({ HOST: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0', mqttHost: '0.0.0.0' });
    expect(readEnvironment({ HOST: '0.0.0.0', MQTT_HOST: '127.0.0.1' })).toMatchObject({ mqttHost: '127.0.0.1' });
    expect(readEnvironment({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(readEnvironment({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it('takes an empty variable as unset', () => {
    expect(readEnvironment({ PORT: '', MQTT_URL: '', LOG_LEVEL: '', GATEWAY_MQTT_USERNAME: '' })).toMatchObject({ port: 3000, mqttUrl: undefined, logLevel: 'info', gateway: { upstreamLogin: undefined } });
  });

  it.each<[EnvironmentVariables, RegExp]>([
    [{ PORT: 'http' }, /^PORT=http: must be a TCP port number/],
    [{ MQTT_PORT: '70000' }, /^MQTT_PORT=70000: must be a TCP port number/],
    [{ GATEWAY_HTTP_PORT: '-1' }, /^GATEWAY_HTTP_PORT=-1: must be a TCP port number/],
    [{ HOST: 'http://0.0.0.0' }, /^HOST=http:\/\/0\.0\.0\.0: must be an interface address/],
    [{ MQTT_URL: 'broker:1883' }, /^MQTT_URL=broker:1883: protocol must be one of mqtt:/],
    [{ UPSTREAM_MQTT_URL: 'not a url' }, /^UPSTREAM_MQTT_URL=not a url: not a URL/],
    [{ INFLUX_URL: 'http://u:secret@127.0.0.1:8086' }, /^INFLUX_URL=http:\/\/u:\*\*\*@127\.0\.0\.1:8086\/: name the database in the path/],
    [{ DATABASE_URL: 'mysql://fm:secret@db.example/facility' }, /^DATABASE_URL=mysql:\/\/fm:\*\*\*@db\.example\/facility: protocol must be one of postgres:, postgresql:$/],
    [{ DATABASE_URL: 'postgres://fm:secret@db.example:5432' }, /^DATABASE_URL=postgres:\/\/fm:\*\*\*@db\.example:5432: name one database in the path, e\.g\. postgres:\/\//],
    [{ DATABASE_URL: 'postgresql:///facility' }, /^DATABASE_URL=postgresql:\/\/\/facility: name the server's host/],
    [{ DATABASE_URL: 'postgres://db.example?password=secret' }, /^DATABASE_URL=postgres:\/\/db\.example\?password=\*\*\*: name one database/],
    [{ LOG_LEVEL: 'verbose' }, /^LOG_LEVEL=verbose: must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ ADMIN_USERNAME: 'root' }, /^ADMIN_USERNAME and ADMIN_PASSWORD: set both, or neither/],
    [{ MQTT_PASSWORD: 'x' }, /^MQTT_PASSWORD is set without MQTT_USERNAME/],
    [{ GATEWAY_MQTT_PASSWORD: 'x' }, /^GATEWAY_MQTT_PASSWORD is set without GATEWAY_MQTT_USERNAME/],
    [{ DEVICE_MQTT_PASSWORD: 'x' }, /^DEVICE_MQTT_PASSWORD is set without DEVICE_MQTT_USERNAME/],
    [{ GATEWAY_CREDENTIALS: 'gw-a:short' }, /^GATEWAY_CREDENTIALS: entry 1 \(gw-a\) needs a password of at least 8/],
    [{ DEVICE_CREDENTIALS: 'fm-server:0123456789' }, /^DEVICE_CREDENTIALS: 'fm-server' is the server's own MQTT user/],
    [{ DEVICE_ANONYMOUS: 'yes' }, /^DEVICE_ANONYMOUS=yes: must be true or false/],
    [{ TLS_CERT: '/etc/fm/cert.pem' }, /^TLS_CERT and TLS_KEY: set both/],
    [{ TLS_CERT: '/nonexistent/cert.pem', TLS_KEY: '/nonexistent/key.pem' }, /^TLS_CERT=\/nonexistent\/cert.pem: cannot read the file \(ENOENT\)/],
    [{ TRUST_PROXY: 'proxy.example' }, /^TRUST_PROXY=proxy.example: 'proxy.example' is not an address or CIDR range/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /^TRUST_PROXY=10.0.0.0\/33: '10.0.0.0\/33' is not an address or CIDR range/],
    [{ METRICS_TOKEN: 'short' }, /^METRICS_TOKEN: use at least 16 characters/],
    [{ BUS_MAX_AHEAD_MS: '-5' }, /^BUS_MAX_AHEAD_MS=-5: must be a whole number of at least 0/],
    [{ MQTT_MAX_PACKET_BYTES: '100' }, /^MQTT_MAX_PACKET_BYTES=100: must be a whole number of at least 1024/],
  ])('refuses %o naming the variable', (vars, message) => {
    expect(() => readEnvironment(vars)).toThrow(EnvironmentError);
    expect(() => readEnvironment(vars)).toThrow(message);
  });

  it('takes a PostgreSQL server by host or by socket directory', () => {
    expect(readEnvironment({ DATABASE_URL: 'postgresql:///facility?host=/var/run/postgresql' }).databaseUrl).toBe('postgresql:///facility?host=/var/run/postgresql');
    expect(readEnvironment({ DATABASE_URL: 'postgres://fm@[::1]/facility' }).databaseUrl).toBe('postgres://fm@[::1]/facility');
  });

  it('is silent under the test runner unless LOG_LEVEL says otherwise', () => {
    expect(readEnvironment({ VITEST: 'true' }).logLevel).toBe('silent');
    expect(readEnvironment({ VITEST: 'true', LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
  });
});
