import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startDevServer } from "./server";

const folders: string[] = [];
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("startDevServer", () => {
  it("leaves nothing open when it cannot listen: the same store opens again at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dev-server-start-"));
    folders.push(dir);
    const taken = createServer();
    await new Promise<void>((ready) => taken.listen(0, "127.0.0.1", ready));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(startDevServer({ storage: dir, port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((closed) => taken.close(closed));
    }
    // Were the first store still open, its folder's lock would refuse this.
    const server = await startDevServer({ storage: dir, port: 0 });
    expect(server.port).toBeGreaterThan(0);
    await server.close();
  });
});
