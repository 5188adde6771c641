import { describe, expect, it } from "vitest";
import { appInternalId, functionInternalId, isUuid, uuidV5 } from "./internal-id";

describe("internal ids: version 5 UUIDs in the OID namespace, as Go's uuid.NewSHA1", () => {
  // Python's uuid.uuid5(uuid.NAMESPACE_OID, name), the same RFC 9562 algorithm as Go's.
  it.each([
    ["my-app", "6314abb5-b9cc-5d32-8ac3-51e26170f039"],
    ["next-hello-world", "586d4050-1d5e-5ee9-800c-c46753c99135"],
    ["", "0a68eb57-c88a-5f34-9e9d-27f85e68af4f"],
    ["héllo-wörld", "1ef33a3f-4b51-532b-87e3-3b5c48b1247a"],
  ])("uuidV5(%j) is %s", (name, expected) => {
    expect(uuidV5(name)).toBe(expected);
  });

  it("names an app as Inngest's DeterministicAppUUID(app name), a function by its slug", () => {
    expect(appInternalId("my-app")).toBe("6314abb5-b9cc-5d32-8ac3-51e26170f039");
    expect(functionInternalId("next-hello-world")).toBe("586d4050-1d5e-5ee9-800c-c46753c99135");
    expect(functionInternalId("astro-hello-world")).not.toBe(
      functionInternalId("next-hello-world"),
    );
  });

  it("tells a UUID from a slug", () => {
    expect(isUuid(functionInternalId("a-b"))).toBe(true);
    expect(isUuid("next-hello-world")).toBe(false);
  });
});
