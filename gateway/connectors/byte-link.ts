import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import type { SerialLine, TcpEndpoint } from '../../common/protocols/links.ts';

/** A byte stream to a field bus: a TCP socket (a serial converter, a gateway) or a serial port. */
export type ByteLink = Duplex;

/** Opens a TCP socket or a serial port; rejects with what went wrong, or after `timeoutMs`. */
export function openByteLink(to: { tcp?: TcpEndpoint | undefined; serial?: SerialLine | undefined }, timeoutMs: number): Promise<ByteLink> {
  return new Promise<ByteLink>((resolve, reject) => {
    let link: ByteLink;
    const timer = setTimeout(() => {
      void closeByteLink(link);
      reject(new Error(`not open within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err?: Error | null) => {
      clearTimeout(timer);
      link.off('error', done);
      if (err) {
        void closeByteLink(link);
        reject(err);
      } else {
        resolve(link);
      }
    };
    if (to.tcp) {
      const socket = connect({ host: to.tcp.host, port: to.tcp.port });
      socket.setNoDelay(true);
      link = socket;
      socket.once('connect', () => done());
    } else if (to.serial) {
      const { path, baudRate, parity, dataBits, stopBits } = to.serial;
      const port = new SerialPort({ path, baudRate, parity, dataBits, stopBits, autoOpen: false });
      link = port;
      port.open((err) => done(err));
    } else {
      clearTimeout(timer);
      reject(new Error('neither tcp nor serial given'));
      return;
    }
    link.once('error', done);
  });
}

/** Closes a link; resolves once it is closed (at most a second). */
export function closeByteLink(link: ByteLink | undefined): Promise<void> {
  if (!link || link.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    link.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    link.on('error', () => {});
    link.destroy();
  });
}
