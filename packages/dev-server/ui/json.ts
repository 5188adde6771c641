/**
 * Parses the JSON editors' text, and when it is not JSON, says where: the browser's own message
 * does not always give a position, so a small scanner finds the first offending character.
 */

export interface JsonProblem {
  message: string;
  line: number;
  column: number;
}

export type Parsed = { ok: true; value: unknown } | { ok: false; problem: JsonProblem };

export function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const { offset, message } = locate(text);
    const { line, column } = lineColumn(text, offset);
    return {
      ok: false,
      problem: {
        message: message ?? (error as Error).message,
        line,
        column,
      },
    };
  }
}

function lineColumn(text: string, offset: number) {
  const before = text.slice(0, offset);
  const lines = before.split("\n");
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** The offset and reason of the first error in `text` (which JSON.parse rejected). */
function locate(text: string): { offset: number; message?: string } {
  let i = 0;
  const describe = (at: number) => (at >= text.length ? "the end of the text" : `"${text[at]}"`);
  const fail = (expected: string): never => {
    throw new Stop(i, `expected ${expected}, found ${describe(i)}`);
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail("a value");
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length) {
      const char = text[i] as string;
      if (char === '"') {
        i++;
        return;
      }
      if (char === "\\") {
        i++;
        const escaped = text[i] ?? "";
        if (escaped === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail("4 hex digits after \\u");
          i += 5;
        } else if ('"\\/bfnrt'.includes(escaped) && escaped !== "") i++;
        else fail('an escape (\\n, \\", \\\\, \\u…)');
      } else if (char < " ") {
        fail('a closing quote (a line break inside a string must be written "\\n")');
      } else i++;
    }
    fail('a closing quote "');
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail("a number");
    i += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    space();
    const char = text[i];
    if (char === "{") {
      i++;
      space();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail('a property name in double quotes or "}"');
        string();
        space();
        if (text[i] !== ":") fail('":" after the property name');
        i++;
        value();
        space();
        if (text[i] === ",") {
          i++;
          space();
          if (text[i] === "}") fail("another property after the comma (no trailing commas)");
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail('"," or "}"');
      }
    }
    if (char === "[") {
      i++;
      space();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[i] === ",") {
          i++;
          space();
          if (text[i] === "]") fail("another value after the comma (no trailing commas)");
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail('"," or "]"');
      }
    }
    if (char === '"') string();
    else if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) number();
    else if (char === "t") literal("true");
    else if (char === "f") literal("false");
    else if (char === "n") literal("null");
    else fail("a value (an object, array, string, number, true, false or null)");
  };
  try {
    value();
    space();
    if (i < text.length) fail("the end of the text after the value");
    return { offset: i };
  } catch (error) {
    if (error instanceof Stop) return { offset: error.offset, message: error.message };
    return { offset: i };
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
