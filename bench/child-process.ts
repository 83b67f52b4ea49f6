import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A benchmark part in its own process, so its CPU and memory can be measured apart from the rest. */
export interface BenchChild {
  readonly pid: number;
  readonly proc: ChildProcess;
  /** Sends a command and resolves with the child's `{ reply: id, ... }` answer. */
  request<T>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** The first message of the given type. */
  next<T>(type: string, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop (`{ cmd: 'stop' }`), waits for its exit, SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface ForkOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function forkTs(file: string, opts: ForkOptions = {}): BenchChild {
  const proc = fork(file, opts.args ?? [], {
    execArgv: ['--import', 'tsx', ...(opts.nodeFlags ?? [])],
    env: { ...process.env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error', ...opts.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(proc);
  const exited = once(proc, 'exit').then(() => {
    live.delete(proc);
  });
  let nextId = 1;
  const bounded = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${file}: no ${what} within ${ms} ms`)), ms);
    });
    const died = exited.then(() => {
      throw new Error(`${file} exited (code ${proc.exitCode}) before ${what}`);
    });
    return Promise.race([p, timeout, died]).finally(() => clearTimeout(timer));
  };
  const waitMessage = <T>(match: (m: Record<string, unknown>) => boolean): Promise<T> =>
    new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>): void => {
        if (!match(m)) return;
        proc.off('message', on);
        resolve(m as T);
      };
      proc.on('message', on);
    });
  return {
    pid: proc.pid!,
    proc,
    request<T>(message: Record<string, unknown>, timeoutMs = 60_000): Promise<T> {
      const id = nextId++;
      const answer = waitMessage<T>((m) => m.reply === id);
      proc.send({ ...message, id });
      return bounded(answer, timeoutMs, `answer to ${String(message.cmd)}`);
    },
    next<T>(type: string, timeoutMs = 60_000): Promise<T> {
      return bounded(waitMessage<T>((m) => m.type === type), timeoutMs, `'${type}' message`);
    },
    async stop(timeoutMs = 30_000): Promise<void> {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      if (proc.connected) proc.send({ cmd: 'stop' });
      const killer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** In a child: answers parent commands; `stop` runs the handler's stop and exits. */
export function serveParent(handlers: Record<string, (msg: Record<string, unknown>) => unknown>): void {
  process.on('message', (msg: Record<string, unknown>) => {
    const cmd = String(msg.cmd);
    const handler = handlers[cmd];
    void (async () => {
      try {
        const result = handler ? await handler(msg) : { error: `unknown command ${cmd}` };
        if (cmd === 'stop') {
          process.disconnect?.();
          process.exit(0);
        }
        process.send?.({ reply: msg.id, ...(result as object) });
      } catch (err) {
        process.send?.({ reply: msg.id, error: (err as Error).stack ?? String(err) });
        if (cmd === 'stop') process.exit(1);
      }
    })();
  });
  // The parent died: nothing left to measure for.
  process.on('disconnect', () => process.exit(0));
}
