import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/**
 * Resident memory of a server's whole process tree, read from /proc (Linux). A start script may
 * run the server under `sh`, and a framework may fork workers: the sum over the tree is what the
 * server costs the machine.
 */

/** The parent pid from the text of /proc/<pid>/stat (the command name may hold spaces or ")"). */
export function parseStatParent(stat: string): number | undefined {
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  // After "pid (comm) ": state, ppid, ...
  const fields = stat.slice(close + 2).split(" ");
  const parent = Number(fields[1]);
  return Number.isInteger(parent) ? parent : undefined;
}

/**
 * CPU time in seconds from the text of /proc/<pid>/stat: user and system time of the process and
 * of its children that have ended (utime, stime, cutime, cstime), at the usual 100 ticks a second.
 */
export function parseStatCpu(stat: string): number {
  const close = stat.lastIndexOf(")");
  if (close < 0) return 0;
  const fields = stat.slice(close + 2).split(" ");
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + (Number(fields[index]) || 0), 0);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux architecture Node runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

/** VmRSS in bytes from the text of /proc/<pid>/status; 0 when absent (a zombie, a kernel thread). */
export function parseStatusRss(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Pss in bytes from the text of /proc/<pid>/smaps_rollup: the process's resident memory with each
 * page shared with other processes (the node executable, a native module) counted in equal shares,
 * so that the Pss of a group of processes sums to the memory they hold together, where their RSS
 * counts a shared page once per process. NaN when absent (unreadable, or a kernel before 4.14).
 */
export function parseRollupPss(rollup: string): number {
  const match = /^Pss:\s+(\d+)\s+kB$/m.exec(rollup);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** The root pid and all its descendants, from a pid → parent pid map. */
export function descendants(root: number, parents: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, parent] of parents) {
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const tree: number[] = [];
  const queue = [root];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    // The process ended between the listing and the read.
    return "";
  }
}

/** Sum of VmRSS over the process tree rooted at `root`, in bytes (0 once the tree is gone). */
export function treeRss(root: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parseStatParent(readOrEmpty(`/proc/${entry}/stat`));
    if (parent !== undefined) parents.set(Number(entry), parent);
  }
  if (!parents.has(root)) return 0;
  return descendants(root, parents).reduce(
    (sum, pid) => sum + parseStatusRss(readOrEmpty(`/proc/${pid}/status`)),
    0,
  );
}

/** Samples the tree's RSS every `intervalMs` until stopped; `stop()` answers the peak in bytes. */
export function sampleTreeRss(root: number, intervalMs = 100): { stop(): number } {
  let peak = treeRss(root);
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(root));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, treeRss(root));
      return peak;
    },
  };
}

/** One process of a tree, as /proc shows it. */
export interface ProcessInfo {
  pid: number;
  parent: number;
  /** VmRSS in bytes. */
  rss: number;
  /** Pss in bytes (NaN when /proc does not tell): its share of the memory, see parseRollupPss. */
  pss: number;
  /** CPU seconds so far, its own and its ended children's. */
  cpu: number;
  /** Its working directory ("" when unreadable). */
  cwd: string;
  /** Its command line, arguments joined by spaces. */
  command: string;
}

function readLinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}

/** Every process of the tree rooted at `root`, with its memory, folder and command line. */
export function treeProcesses(root: number): ProcessInfo[] {
  const parents = new Map<number, number>();
  const stats = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOrEmpty(`/proc/${entry}/stat`);
    const parent = parseStatParent(stat);
    if (parent === undefined) continue;
    parents.set(Number(entry), parent);
    stats.set(Number(entry), stat);
  }
  if (!parents.has(root)) return [];
  return descendants(root, parents).map((pid) => ({
    pid,
    parent: parents.get(pid) ?? 0,
    cpu: parseStatCpu(stats.get(pid) ?? ""),
    rss: parseStatusRss(readOrEmpty(`/proc/${pid}/status`)),
    pss: parseRollupPss(readOrEmpty(`/proc/${pid}/smaps_rollup`)),
    cwd: readLinkOrEmpty(`/proc/${pid}/cwd`),
    command: readOrEmpty(`/proc/${pid}/cmdline`).split("\0").join(" ").trim(),
  }));
}
