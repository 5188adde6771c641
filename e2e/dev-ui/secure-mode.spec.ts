import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";

/**
 * The dev UI against a dev server in secure mode (`--signing-key`): its API answers 401 without
 * the key, so the UI asks for it once, keeps it for the tab and sends it as Bearer. A server of
 * its own, through the CLI (the suite's shared one runs without a key).
 */

const signingKey = `signkey-test-${randomBytes(32).toString("hex")}`;
const cli = fileURLToPath(new URL("../../packages/dev-server/bin/dev-server.mjs", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let child: ChildProcess | undefined;
let origin = "";

test.beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  const started = spawn(
    process.execPath,
    [cli, "--port", String(port), "--storage", "memory://", "--signing-key", signingKey],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, INNGEST_SIGNING_KEY: "" } },
  );
  child = started;
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no start in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("listening on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    started.stdout?.on("data", onData);
    started.stderr?.on("data", onData);
    started.once("exit", (code) => reject(new Error(`exited ${code}:\n${output}`)));
  });
});

test.afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child?.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
});

test("dev UI in secure mode: asks for the signing key, refuses a wrong one, works with the right one", async ({
  page,
}) => {
  await page.goto(`${origin}/runs`);
  const input = page.getByTestId("signing-key-input");
  const reason = page.getByTestId("signing-key-reason");
  await expect(input).toBeVisible();
  await expect(reason).toContainText("missing: the server runs in secure mode");
  await expect(page.getByTestId("nav-runs")).toHaveCount(0);

  await input.fill(`signkey-test-${"ab".repeat(32)}`);
  await page.getByTestId("signing-key-submit").click();
  await expect(reason).toContainText("The key given was refused");
  await expect(reason).toContainText("wrong token");

  await page.getByTestId("signing-key-input").fill(signingKey);
  await page.getByTestId("signing-key-submit").click();
  await expect(page.getByTestId("nav-runs")).toBeVisible();
  await expect(page.getByTestId("signing-key-input")).toHaveCount(0);
  await expect(page.getByText("connected · live")).toBeVisible();
  // Kept for the tab: another page of the UI needs no second asking.
  await page.getByTestId("nav-events").click();
  await expect(page).toHaveURL(/\/events$/);
  await page.reload();
  await expect(page.getByTestId("nav-events")).toBeVisible();
  await expect(page.getByTestId("signing-key-input")).toHaveCount(0);
  // (e2e has no DOM types: the page's sessionStorage, typed by hand.)
  const kept = await page.evaluate(() =>
    (
      globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }
    ).sessionStorage.getItem("inngest-dev-server.signing-key"),
  );
  expect(kept).toBe(signingKey);
});
