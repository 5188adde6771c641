import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "@repo/test-utils";
import { afterEach, expect, it } from "vitest";
import { splitByFault } from "../src/effects";
import { sendNumbered, startTrickle } from "../src/load";
import { kill9 } from "../src/processes";
import { allEvents, allRuns, createStage, reportRow, type Stage } from "../src/stage";
import { seconds } from "../src/table";

/**
 * Scenario 4: the storage's disk fills up under load (the journal folder on a 4 MB tmpfs, filled
 * by another file). While it is full the event API answers 503 with a message, nothing answered
 * 200 is lost and nothing refused is stored; once there is room again the server takes events
 * again without a restart; and a restart afterwards opens the journal as it is (nothing
 * half-written in it).
 */

const STEADY = 20;

let stage: Stage;
let mount: string | undefined;
afterEach(async (context) => {
  // The processes first: they hold files on the tmpfs; then the tmpfs; then the folder.
  await kill9(stage?.server);
  await kill9(stage?.app);
  if (mount) execFileSync("umount", ["--lazy", mount]);
  mount = undefined;
  await stage?.close(context.task.result?.state === "fail");
});

/** A tmpfs of its own (root only; CI runs as root): a disk that can really be filled. */
function tinyDisk(dir: string): string | null {
  const path = join(dir, "disk");
  mkdirSync(path);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", path], { stdio: "pipe" });
    return path;
  } catch (error) {
    console.warn(`scenario 4 skipped: cannot mount a tmpfs (${(error as Error).message.trim()})`);
    return null;
  }
}

/** Writes zeros until the disk says it is full; returns the filler's path. */
function fill(disk: string): string {
  const filler = join(disk, "filler");
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return filler;
}

it("4: storage not writable (disk full)", async (context) => {
  stage = await createStage("storage-full");
  mount = tinyDisk(stage.dir) ?? undefined;
  if (!mount) return context.skip();
  stage.storage = join(mount, "dev-server");
  await stage.startApp();
  const server = await stage.startServer();
  await stage.synced(4);

  const runIds = await sendNumbered(stage.rest, "faults/steady", STEADY, 10);
  const trickle = startTrickle(stage.serverUrl, "faults/ping");
  await waitFor("some events acknowledged", () => trickle.acked.length >= 20);
  const filler = fill(mount);
  const fullAt = Date.now();
  await waitFor("the event API to refuse sends", () => trickle.refusedIndexes.size >= 20, {
    timeoutMs: 60_000,
  });
  const refusal = trickle.lastRefusal;
  const ackedWhileFull = trickle.acked.length;
  rmSync(filler);
  const freedAt = Date.now();
  await waitFor(
    "the event API to take sends again",
    () => trickle.acked.length >= ackedWhileFull + 20,
    {
      timeoutMs: 60_000,
    },
  );
  const recoveredMs = Date.now() - freedAt;
  await trickle.stop();
  const runs = await waitFor(
    "the steady runs to end",
    async () => {
      const runs = await allRuns(stage.rest, "faults-steady");
      return runs.length >= STEADY && runs.every((run) => run.status !== "Running") && runs;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  const aliveThroughout = server.alive();

  // A restart reads the journal as the full disk left it.
  await kill9(stage.server);
  await stage.startServer();
  const stored = await allEvents(stage.rest, "faults/ping");
  const storedIds = new Set(stored.map((event) => event.internal_id));
  const lost = trickle.acked.filter((id) => !storedIds.has(id));
  const storedRefused = stored.filter((event) => trickle.refusedIndexes.has(Number(event.data.i)));
  const completed = runs.filter((run) => run.status === "Completed");
  const effects = stage.effects("steady");
  // A step whose result could not be stored while the disk was full runs again: counted apart.
  const { inFlight, unexplained } = splitByFault(
    effects.duplicated,
    { from: fullAt, to: freedAt },
    1000,
  );

  reportRow({
    scenario: "4 disk full",
    load: `${STEADY} runs + ${trickle.acked.length + trickle.refusedIndexes.size} events trickled`,
    fault: `journal's disk full for ${seconds(freedAt - fullAt)} (${trickle.refusedIndexes.size} sends refused)`,
    completed: `${completed.length}/${STEADY} runs, ${stored.length}/${trickle.acked.length} acked events`,
    lost: lost.length + STEADY - completed.length,
    duplicated: `${unexplained.length} (+${inFlight.length} whose result the full disk refused)`,
    worstConcurrency: `${effects.worstConcurrency} (no limit)`,
    recovery: `sends taken again ${seconds(recoveredMs)} after space freed`,
  });
  console.log(`refusal while full: ${refusal}; answers ${JSON.stringify([...trickle.answers])}`);

  expect(aliveThroughout, "the dev server stayed up").toBe(true);
  expect(refusal).toMatch(/^503 .*"error":".*(space|ENOSPC)/);
  expect(lost, "acknowledged events missing").toEqual([]);
  expect(
    storedRefused.map((event) => event.data.i),
    "refused events stored",
  ).toEqual([]);
  expect(completed).toHaveLength(STEADY);
  expect(runIds).toHaveLength(STEADY);
  expect(unexplained.map((step) => `${step.run}/${step.step}`)).toEqual([]);
});
