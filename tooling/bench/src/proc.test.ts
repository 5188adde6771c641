import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  descendants,
  parseRollupPss,
  parseStatCpu,
  parseStatParent,
  parseStatusRss,
  treeProcesses,
  treeRss,
} from "./proc";

describe("reading /proc", () => {
  it("finds the parent pid after the command name, even one with spaces and parentheses", () => {
    expect(parseStatParent("1234 (next-server (v16)) S 99 1234 1234 0 -1")).toBe(99);
    expect(parseStatParent("garbage")).toBeUndefined();
  });

  it("reads CPU seconds: user and system time, its own and its ended children's", () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
    expect(parseStatCpu("7 (next-server (v16)) S 1 7 7 0 -1 0 0 0 0 0 250 50 30 20 20 0")).toBe(
      3.5,
    );
    expect(parseStatCpu("garbage")).toBe(0);
  });

  it("reads VmRSS in bytes, 0 when the process has none", () => {
    expect(parseStatusRss("Name:\tnode\nVmRSS:\t  123456 kB\nRssAnon:\t1 kB\n")).toBe(
      123456 * 1024,
    );
    expect(parseStatusRss("Name:\tkthreadd\n")).toBe(0);
  });

  it("reads Pss in bytes from smaps_rollup (not Pss_Anon), NaN when absent", () => {
    const rollup =
      "55b3dee18000-7ffc9a3c7000 ---p 00000000 00:00 0  [rollup]\nRss:  1844 kB\n" +
      "Pss:  465 kB\nPss_Dirty:  152 kB\nPss_Anon:  116 kB\n";
    expect(parseRollupPss(rollup)).toBe(465 * 1024);
    expect(parseRollupPss("")).toBeNaN();
  });

  it("a process's Pss is at most its RSS, and less once another node process shares its pages", async () => {
    const child = spawn("node", ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      const deadline = Date.now() + 10_000;
      while (treeRss(child.pid as number) === 0 && Date.now() < deadline)
        await new Promise((next) => setTimeout(next, 20));
      const [self] = treeProcesses(process.pid);
      expect(self?.pid).toBe(process.pid);
      expect(self?.pss).toBeGreaterThan(10 * 1024 * 1024);
      // This process and the child map the same node executable: each holds half of those pages.
      expect(self?.pss).toBeLessThan((self?.rss ?? 0) - 5 * 1024 * 1024);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("walks a process tree from its root, whatever the pid order", () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 1],
      [5, 12],
    ]);
    expect(descendants(10, parents).sort((a, b) => a - b)).toEqual([5, 10, 11, 12]);
  });

  it("sums a real tree: this process with a child weighs more than the child alone", async () => {
    const child = spawn("node", ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      // Wait until the child has an RSS of its own (it has started).
      const deadline = Date.now() + 10_000;
      while (treeRss(child.pid as number) === 0 && Date.now() < deadline)
        await new Promise((next) => setTimeout(next, 20));
      const childRss = treeRss(child.pid as number);
      expect(childRss).toBeGreaterThan(10 * 1024 * 1024);
      expect(treeRss(process.pid)).toBeGreaterThan(childRss + process.memoryUsage().rss / 2);
    } finally {
      child.kill("SIGKILL");
    }
    expect(treeRss(2 ** 22 + 7)).toBe(0);
  });
});
