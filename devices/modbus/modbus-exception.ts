/** Modbus exception codes a slave answers with (Modbus Application Protocol v1.1b3, section 7). */
export const MODBUS_EXCEPTION = {
  illegalFunction: 1,
  illegalDataAddress: 2,
  illegalDataValue: 3,
  slaveDeviceFailure: 4,
} as const;

/**
 * A request the slave refuses with an exception response. `modbusErrorCode` is the property
 * modbus-serial's servers read to build the exception frame.
 */
export class ModbusException extends Error {
  readonly modbusErrorCode: number;
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ModbusException';
    this.modbusErrorCode = code;
  }
}
