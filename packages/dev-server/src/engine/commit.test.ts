import { describe, expect, it } from "vitest";
import { realClock } from "../clock";
import { MemoryStore } from "../store/memory-store";
import { StorageUnavailableError } from "../store/store";
import { Changes } from "./changes";
import { Committer } from "./commit";
import { EngineState } from "./state";

/** A store whose commits fail as the storage out of reach does, counting them. */
class UnreachableStore extends MemoryStore {
  commits = 0;
  override async commit(): Promise<Set<string>[]> {
    this.commits++;
    throw new StorageUnavailableError("PostgreSQL is unreachable (ECONNREFUSED)");
  }
}

describe("Committer", () => {
  it("fails a whole group at once when the storage is unavailable, without trying each alone", async () => {
    const store = new UnreachableStore();
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const state = new EngineState(realClock, quiet);
    const committer = new Committer(store, state, () => {});
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => committer.commit(new Changes())),
    );
    expect(results.map((result) => result.status)).toEqual(Array(5).fill("rejected"));
    for (const result of results)
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StorageUnavailableError);
    // The first alone, then the other four as one group: two commits, not 1 + 1 + 4.
    expect(store.commits).toBe(2);
  });
});
