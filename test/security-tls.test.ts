import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError, readEnvironment } from '../common/env.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { startGatewayHttp } from '../gateway/http-endpoint.ts';
import { buildApp } from '../server/app.ts';
import { freePort } from './harness/ports.ts';
import { smallSite } from './harness/server-app.ts';
import { requireBinary } from './harness/services.ts';
import { makeTestCertificate, type TestCertificate } from './harness/test-certificate.ts';

/** GET over HTTPS trusting only `ca`: status and body. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a plain MQTT CONNECT on `port` gets a CONNACK (it must not on the TLS port). */
function plainConnackOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1', () => {
      // MQTT 3.1.1 CONNECT, client id "plain", clean session, keepalive 30 s.
      socket.write(Buffer.from([0x10, 0x11, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x1e, 0x00, 0x05, 0x70, 0x6c, 0x61, 0x69, 0x6e]));
    });
    socket.on('data', (d: Buffer) => {
      socket.destroy();
      resolve(d[0] === 0x20);
    });
    socket.on('close', () => resolve(false));
    socket.on('error', () => resolve(false));
  });
}

describe.runIf(requireBinary('openssl') !== undefined)('TLS from TLS_CERT and TLS_KEY', () => {
  let cert: TestCertificate;
  let dir: string;
  let app: FastifyInstance;
  let httpsUrl: string;
  let mqttsPort: number;

  beforeAll(async () => {
    cert = await makeTestCertificate();
    dir = await mkdtemp(join(tmpdir(), 'fm-tls-server-'));
    mqttsPort = await freePort();
    const env = readEnvironment({
      TLS_CERT: cert.certFile,
      TLS_KEY: cert.keyFile,
      MQTTS_PORT: String(mqttsPort),
      MQTT_PORT: '0',
      GATEWAY_CREDENTIALS: 'gw-test:gateway-password-1',
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
    });
    app = await buildApp({ site: smallSite(true), env });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    httpsUrl = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
    await cert?.remove();
  });

  it('serves the API over HTTPS, with HSTS and the HTTPS upgrade in the CSP', async () => {
    const res = await httpsGet(`${httpsUrl}/api/labels?lang=en`, cert.ca);
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(String(res.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
    await expect(httpsGet(`${httpsUrl}/api/labels`, '')).rejects.toThrow();
  });

  it('hosts MQTTS: a gateway connects trusting the CA; a plain connection on the TLS port gets no CONNACK', async () => {
    expect(app.broker.embedded?.broker.tlsUrl).toBe(`mqtts://127.0.0.1:${mqttsPort}`);
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${mqttsPort}`, { ca: cert.ca, username: 'gw-test', password: 'gateway-password-1', clientId: 'gw-test-upstream', reconnectPeriod: 0 });
    await client.publishAsync('fm/v1/gateway/gw-test/status', JSON.stringify({ gateway: 'gw-test', online: true, ts: Date.now() }), { qos: 1 });
    await client.endAsync();
    await expect(mqtt.connectAsync(`mqtts://127.0.0.1:${mqttsPort}`, { reconnectPeriod: 0, connectTimeout: 5000 })).rejects.toThrow(/self-signed|certificate/);
    expect(await plainConnackOn(mqttsPort)).toBe(false);
    // The plain port still answers MQTT.
    expect(await plainConnackOn(app.broker.embedded!.broker.port)).toBe(true);
  });

  it("serves the gateway's /metrics and /health over HTTPS", async () => {
    const tls = readEnvironment({ TLS_CERT: cert.certFile, TLS_KEY: cert.keyFile }).tls!;
    const http = await startGatewayHttp({ port: 0, tls, metrics: new MetricsRegistry(), health: () => ({ ok: true }) as never });
    try {
      expect((await httpsGet(`https://127.0.0.1:${http.port}/health`, cert.ca)).status).toBe(200);
    } finally {
      await http.close();
    }
  });

  it('refuses a key that does not match the certificate, naming both variables', async () => {
    const other = await makeTestCertificate();
    try {
      expect(() => readEnvironment({ TLS_CERT: cert.certFile, TLS_KEY: other.keyFile })).toThrow(EnvironmentError);
      expect(() => readEnvironment({ TLS_CERT: cert.certFile, TLS_KEY: other.keyFile })).toThrow(/^TLS_CERT=.*, TLS_KEY=.*: not a usable certificate and key/);
    } finally {
      await other.remove();
    }
  });
});
