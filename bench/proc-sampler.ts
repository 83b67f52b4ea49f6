import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessUsage {
  /** Mean CPU over the sampled span, % of one core. */
  meanCpuPct: number;
  /** Highest CPU of one sampling interval, % of one core. */
  peakCpuPct: number;
  peakRssMb: number;
  samples: number;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime in seconds, or undefined once the process is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples CPU time and RSS of named processes at a fixed interval between start() and stop(). */
export class ProcessSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly state = new Map<string, { pid: number; firstCpu: number; firstAt: number; lastCpu: number; lastAt: number; peakCpu: number; peakRss: number; samples: number }>();

  constructor(
    private readonly pids: Record<string, number | undefined>,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    const now = performance.now();
    for (const [name, pid] of Object.entries(this.pids)) {
      if (pid === undefined) continue;
      const cpu = cpuSeconds(pid);
      if (cpu === undefined) continue;
      this.state.set(name, { pid, firstCpu: cpu, firstAt: now, lastCpu: cpu, lastAt: now, peakCpu: 0, peakRss: rssMb(pid) ?? 0, samples: 0 });
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): Record<string, ProcessUsage> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, ProcessUsage> = {};
    for (const [name, s] of this.state) {
      const span = (s.lastAt - s.firstAt) / 1000;
      out[name] = {
        meanCpuPct: span > 0 ? ((s.lastCpu - s.firstCpu) / span) * 100 : 0,
        peakCpuPct: s.peakCpu,
        peakRssMb: s.peakRss,
        samples: s.samples,
      };
    }
    return out;
  }

  private sample(): void {
    const now = performance.now();
    for (const s of this.state.values()) {
      const cpu = cpuSeconds(s.pid);
      if (cpu === undefined) continue;
      const dt = (now - s.lastAt) / 1000;
      // Intervals much shorter than the clock tick give noise, not peaks.
      if (dt >= this.intervalMs / 2000) {
        s.peakCpu = Math.max(s.peakCpu, ((cpu - s.lastCpu) / dt) * 100);
        s.lastCpu = cpu;
        s.lastAt = now;
        s.samples++;
      }
      s.peakRss = Math.max(s.peakRss, rssMb(s.pid) ?? 0);
    }
  }
}
