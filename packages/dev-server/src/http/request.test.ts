import { describe, expect, it } from "vitest";
import { HttpError, parseObject, typeName } from "./request";

describe("typeName", () => {
  it("names what was sent in plain words", () => {
    expect(typeName(null)).toBe("null");
    expect(typeName(undefined)).toBe("nothing");
    expect(typeName([])).toBe("an array");
    expect(typeName({})).toBe("an object");
    expect(typeName(5)).toBe("a number");
    expect(typeName("x")).toBe("a string");
  });
});

describe("parseObject", () => {
  it("takes an object, and an empty body as {}", () => {
    expect(parseObject('{"a": 1}')).toEqual({ a: 1 });
    expect(parseObject("  ")).toEqual({});
  });

  it.each([
    ["null", /got null/],
    ["[1]", /got an array/],
    ["7", /got a number/],
    ["{", /malformed JSON/],
  ])("refuses %s with a 400 saying what it got", (text, message) => {
    let thrown: unknown;
    try {
      parseObject(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect((thrown as HttpError).status).toBe(400);
    expect((thrown as HttpError).message).toMatch(message);
  });
});
