import { createServer } from "node:net";

/**
 * A port that was free a moment ago: for a server that must be told its URL before it starts (an
 * app whose URL the dev server syncs). Servers the test starts itself listen on port 0 instead.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const address = probe.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise((resolve) => probe.close(resolve));
  if (!port) throw new Error("could not find a free port");
  return port;
}
