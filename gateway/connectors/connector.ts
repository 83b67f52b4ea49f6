import type { EventEmitter } from 'node:events';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import type { ConnectionStatus } from '../../common/topics.ts';

/** Where connectors hand what they read. */
export interface Ingest {
  /**
   * Resolves once the readings and events are durable on disk (the outbox). Only then may a
   * connector acknowledge them to a device or broker. Rejects with OutboxFullError when the
   * outbox is full and configured to refuse new data.
   */
  submit(readings: Reading[], events: DeviceEvent[]): Promise<void>;
}

export type ConnectorState = 'starting' | 'running' | 'degraded' | 'stopped';

export interface ConnectorStatus {
  connector: string;
  state: ConnectorState;
  /** Human-readable detail, e.g. which connection is down. */
  detail?: string;
}

export interface ConnectorEvents {
  status: [ConnectorStatus];
  /** Survivable problems (bad payload, poll failure); the entry point logs them. */
  error: [Error];
  /** A connection went up or down; read them with connections(). */
  connections: [];
}

/** A source of readings: Modbus, MQTT. Connectors never throw out of their loops. */
export interface Connector extends EventEmitter<ConnectorEvents> {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): ConnectorStatus;
  /** The connections it keeps (a Modbus converter, a DL/T 645 line) with the devices on each, once their state is known. */
  connections?(): ConnectionStatus[];
}
