import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface HotFunction {
  function: string;
  file: string;
  /** Share of the busy samples (idle left out) spent in the function itself. */
  selfPct: number;
  /** Share of the busy samples with the function on the stack. */
  totalPct: number;
}

export interface CpuProfileSummary {
  /** Share of all samples the process was busy. */
  busyPct: number;
  bySelf: HotFunction[];
  /** Functions of this repository (not node_modules, not node internals) by time on the stack. */
  byTotal: HotFunction[];
}

const IDLE = new Set(['(idle)', '(program)']);

function fileOf(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  if (!path) return '';
  const nm = path.lastIndexOf('/node_modules/');
  return nm >= 0 ? path.slice(nm + 14) : path.startsWith('/') ? relative(process.cwd(), path) : path;
}

/** Self and inclusive time per function of the .cpuprofile files (node --cpu-prof) in `dir`. */
export function summariseCpuProfiles(dir: string, top = 15): CpuProfileSummary {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const meta = new Map<string, { fn: string; file: string }>();
  let all = 0;
  let busy = 0;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const keyOf = (n: ProfileNode): string => {
      const fn = n.callFrame.functionName || '(anonymous)';
      const file = fileOf(n.callFrame.url);
      const key = `${fn}@${file}`;
      if (!meta.has(key)) meta.set(key, { fn, file });
      return key;
    };
    for (const id of profile.samples) {
      const n = byId.get(id);
      if (!n) continue;
      all++;
      if (IDLE.has(n.callFrame.functionName)) continue;
      busy++;
      const k = keyOf(n);
      self.set(k, (self.get(k) ?? 0) + 1);
      const onStack = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) onStack.add(keyOf(byId.get(cur)!));
      for (const s of onStack) total.set(s, (total.get(s) ?? 0) + 1);
    }
  }
  const row = (k: string): HotFunction => ({
    function: meta.get(k)!.fn,
    file: meta.get(k)!.file,
    selfPct: busy ? ((self.get(k) ?? 0) / busy) * 100 : 0,
    totalPct: busy ? ((total.get(k) ?? 0) / busy) * 100 : 0,
  });
  const own = (k: string) => {
    const f = meta.get(k)!.file;
    return /^(gateway|common|bench)\//.test(f);
  };
  return {
    busyPct: all ? (busy / all) * 100 : 0,
    bySelf: [...self.keys()].sort((a, b) => self.get(b)! - self.get(a)!).slice(0, top).map(row),
    byTotal: [...total.keys()].filter(own).sort((a, b) => total.get(b)! - total.get(a)!).slice(0, top).map(row),
  };
}
