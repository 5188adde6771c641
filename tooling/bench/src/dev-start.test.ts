import { describe, expect, it } from "vitest";
import { groupOf, sumByGroup } from "./dev-start";
import type { ProcessInfo } from "./proc";

const process = (pid: number, cwd: string, rss: number, cpu = 0): ProcessInfo => ({
  pid,
  parent: 1,
  rss,
  pss: rss / 2,
  cpu,
  cwd,
  command: "node",
});

describe("the processes of a `pnpm dev` run, grouped", () => {
  it("counts a process for the package folder it runs in, and the rest for the runner", () => {
    expect(groupOf({ cwd: "/repo/apps/next" }, "/repo")).toBe("next");
    expect(groupOf({ cwd: "/repo/apps/remix/app" }, "/repo")).toBe("remix");
    expect(groupOf({ cwd: "/repo/packages/dev-server" }, "/repo")).toBe("dev server");
    expect(groupOf({ cwd: "/repo" }, "/repo")).toBe("pnpm dev");
    expect(groupOf({ cwd: "" }, "/repo")).toBe("pnpm dev");
  });

  it("sums each figure per group", () => {
    const processes = [
      process(10, "/repo", 100),
      process(11, "/repo/apps/next", 200, 1.5),
      process(12, "/repo/apps/next", 50, 2),
      process(13, "/repo/apps/astro", 70, 3),
    ];
    expect(Object.fromEntries(sumByGroup(processes, "/repo", (p) => p.rss))).toEqual({
      "pnpm dev": 100,
      next: 250,
      astro: 70,
    });
    expect(sumByGroup(processes, "/repo", (p) => p.cpu).get("next")).toBe(3.5);
  });
});
