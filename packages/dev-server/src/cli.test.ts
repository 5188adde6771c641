import { describe, expect, it } from "vitest";
import { banner } from "./cli";
import type { Store } from "./store/store";

describe("banner", () => {
  const server = {
    url: "http://127.0.0.1:8288",
    store: { kind: "pglite", location: "/data" } as Store,
  };

  it("names the apps of earlier sessions that have not synced since this start", () => {
    const line = banner(
      server,
      { sdkUrls: [] },
      [],
      [
        {
          url: "http://127.0.0.1:3001/api/inngest",
          appId: "next",
          framework: "nextjs",
          sdk: "js:v4",
          functionCount: 12,
          syncedAt: 1,
          error: null,
        },
      ],
    );
    expect(line).toContain(
      "not synced since this start (their events start no runs, their runs wait, until they sync): next http://127.0.0.1:3001/api/inngest",
    );
  });

  it("says when the server runs in classic mode (no checkpointing), and nothing by default", () => {
    expect(banner(server, { sdkUrls: [], checkpointing: false }, [])).toContain(
      "classic mode (no checkpointing)",
    );
    expect(banner(server, { sdkUrls: [] }, [])).not.toContain("classic mode");
  });

  it("says nothing of them when there are none", () => {
    expect(banner(server, { sdkUrls: [] }, [])).not.toContain("not synced since this start");
  });
});
