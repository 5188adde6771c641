import { describe, expect, it } from "vitest";
import { replaceBetweenMarkers } from "../src/docs";
import { countsTowardBundle, targets } from "../src/targets";

describe("replaceBetweenMarkers", () => {
  const page = "# Page\n<!-- t:start -->\nold\n<!-- t:end -->\nafter\n";

  it("replaces what lies between the markers and keeps them", () => {
    expect(replaceBetweenMarkers(page, "t", "new")).toBe(
      "# Page\n<!-- t:start -->\nnew\n<!-- t:end -->\nafter\n",
    );
  });

  it("leaves a page without both markers alone", () => {
    expect(replaceBetweenMarkers("# Page\n<!-- t:start -->\n", "t", "new")).toBe(
      "# Page\n<!-- t:start -->\n",
    );
  });
});

describe("targets", () => {
  it("runs each app with its own start and build scripts, the floor first", () => {
    const list = targets();
    expect(list.map((target) => target.id)).toEqual(["node", "next", "astro", "remix"]);
    expect(list.find((t) => t.id === "next")?.start).toContain("next start");
    expect(list.find((t) => t.id === "astro")?.start).toContain("dist/server/entry.mjs");
    expect(list.find((t) => t.id === "remix")?.start).toContain("remix-serve");
    expect(list.find((t) => t.id === "next")?.build).toContain("next build");
  });

  it("counts code toward the bundle, not source maps or Next's file traces", () => {
    expect(countsTowardBundle("/x/.next/server/app/page.js")).toBe(true);
    expect(countsTowardBundle("/x/dist/server/chunks/a.mjs")).toBe(true);
    expect(countsTowardBundle("/x/dist/server/chunks/a.mjs.map")).toBe(false);
    expect(countsTowardBundle("/x/.next/server/app/page.js.nft.json")).toBe(false);
  });
});
