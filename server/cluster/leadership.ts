import { EventEmitter } from 'node:events';

/**
 * Which server replica runs the estate's single-writer duties: consuming the gateways' upstream
 * topics, evaluating rules, running schedules. Services that must run on one replica only start
 * when `isLeader` turns true and stop when it turns false (`change` events).
 */
export interface Leadership {
  readonly isLeader: boolean;
  on(event: 'change', listener: (isLeader: boolean) => void): this;
  off(event: 'change', listener: (isLeader: boolean) => void): this;
}

/** One server process: it always leads. */
export class SoleLeadership extends EventEmitter implements Leadership {
  readonly isLeader = true;
}

/**
 * Runs `start` while this replica leads and `stop` when it stops leading (and on close):
 * the one way a service follows leadership.
 */
export function whileLeading(leadership: Leadership, duty: { start(): void | Promise<void>; stop(): void | Promise<void> }): () => Promise<void> {
  let running = false;
  let chain: Promise<void> = Promise.resolve();
  const follow = (lead: boolean): void => {
    chain = chain.then(async () => {
      if (lead === running) return;
      running = lead;
      await (lead ? duty.start() : duty.stop());
    });
  };
  leadership.on('change', follow);
  follow(leadership.isLeader);
  return async () => {
    leadership.off('change', follow);
    follow(false);
    await chain;
  };
}
