/** Time for the loops that wait: the system's, or one a test moves by hand. */
export interface Clock {
  /** UTC epoch milliseconds. */
  now(): number;
  /** Resolves true after `ms`; false at once when `signal` aborts (the timer is then cleared). */
  sleep(ms: number, signal: AbortSignal): Promise<boolean>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    }),
};
