import { spawn } from "node:child_process";
import { readdirSync, statSync, utimesSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { Inngest } from "inngest";
import { afterAll, describe, expect, it, vi } from "vitest";
import { parseCli, UsageError } from "../src/cli";
import { freePort, serveApp } from "./harness";

/** The command line: every flag, the defaults, clear errors with exit code 2, and the banner. */

const bin = resolve(import.meta.dirname, "../bin/dev-server.mjs");
const key = `signkey-test-${"ab".repeat(32)}`;

/** The child's environment: none of the variables that would change the defaults. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["DATABASE_URL", "INNGEST_SIGNING_KEY", "PORT_DEV_SERVER"]) delete env[name];
  return env;
}

function options(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const parsed = parseCli(argv, env);
  if (parsed === "help") throw new Error("expected options, got help");
  return parsed;
}

describe("parseCli", () => {
  it("has defaults that need no configuration", () => {
    const parsed = options([]);
    expect(parsed).toMatchObject({
      port: 8288,
      host: "127.0.0.1",
      sdkUrls: [],
      storage: ".data/dev-server",
      signingKey: undefined,
      eventKey: undefined,
      retry: { baseMs: 1000, maxMs: 3_600_000 },
      resyncIntervalMs: 5000,
      callTimeoutMs: 300_000,
      testMode: false,
      checkpointing: true,
    });
  });

  it("takes its defaults from the environment where one is set", () => {
    expect(
      options([], {
        DATABASE_URL: "postgres://u@127.0.0.1:5432/db",
        INNGEST_SIGNING_KEY: key,
        PORT_DEV_SERVER: "9999",
      }),
    ).toMatchObject({ storage: "postgres://u@127.0.0.1:5432/db", signingKey: key, port: 9999 });
    // A flag wins over the environment.
    expect(options(["--storage", "memory://"], { DATABASE_URL: "postgres://x/y" }).storage).toBe(
      "memory://",
    );
  });

  it.each([
    [["-p", "3001"], { port: 3001 }],
    [["--port", "0"], { port: 0 }],
    [["--host", "0.0.0.0"], { host: "0.0.0.0" }],
    [
      ["-u", "http://127.0.0.1:3000/api/inngest", "--sdk-url", "https://app.test/api/inngest"],
      { sdkUrls: ["http://127.0.0.1:3000/api/inngest", "https://app.test/api/inngest"] },
    ],
    [
      ["--storage", "postgres://postgres@127.0.0.1:5432/dev"],
      { storage: "postgres://postgres@127.0.0.1:5432/dev" },
    ],
    [["--storage", "/tmp/dev-data"], { storage: "/tmp/dev-data" }],
    [["--signing-key", key], { signingKey: key }],
    [["--event-key", "my-key_1.0"], { eventKey: "my-key_1.0" }],
    [["--poll-interval", "500ms"], { resyncIntervalMs: 500 }],
    [["--retry-base", "100ms", "--retry-max", "2m"], { retry: { baseMs: 100, maxMs: 120_000 } }],
    [["--call-timeout", "2s"], { callTimeoutMs: 2000 }],
    [["--test-mode"], { testMode: true }],
    [["--no-checkpointing"], { checkpointing: false }],
  ])("reads %j", (argv, expected) => {
    expect(options(argv)).toMatchObject(expected);
  });

  it("answers help for -h and --help", () => {
    expect(parseCli(["-h"], {})).toBe("help");
    expect(parseCli(["--help"], {})).toBe("help");
  });

  it("-v prints routine detail that is otherwise quiet", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      options([]).logger?.debug("quiet detail");
      expect(log).not.toHaveBeenCalled();
      options(["-v"]).logger?.debug("verbose detail");
      expect(log).toHaveBeenCalledWith(expect.stringContaining("verbose detail"));
    } finally {
      log.mockRestore();
    }
  });

  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [["stray"], /Unexpected argument 'stray'/],
    [["--port"], /--port.*argument missing/],
    [["--port", "abc"], /--port must be a whole number from 0 to 65535, got "abc"/],
    [["--port", "70000"], /--port must be a whole number from 0 to 65535, got "70000"/],
    [["--port=-1"], /--port must be a whole number from 0 to 65535, got "-1"/],
    [["--port", "80.5"], /--port must be a whole number from 0 to 65535, got "80.5"/],
    [["-u", "localhost:3000"], /--sdk-url must be an http\(s\) URL .* got "localhost:3000"/],
    [["-u", "ftp://127.0.0.1/api/inngest"], /--sdk-url must be an http\(s\) URL/],
    [
      ["--retry-base", "soon"],
      /--retry-base must be a duration such as 500ms, 1s or 2m, got "soon"/,
    ],
    [["--retry-max", "0s"], /--retry-max must be a duration/],
    [["--call-timeout", "never"], /--call-timeout must be a duration/],
    [["--poll-interval", "5"], /--poll-interval must be a duration .* got "5"/],
    [
      ["--retry-base", "1m", "--retry-max", "1s"],
      /--retry-max must not be shorter than --retry-base/,
    ],
    [["--signing-key", "hunter2"], /--signing-key: a signing key must be signkey-<env>-<hex>/],
    [["--event-key", "a/b"], /--event-key must be letters, digits/],
  ])("refuses %j with a clear message", (argv, message) => {
    expect(() => parseCli(argv, {})).toThrow(UsageError);
    expect(() => parseCli(argv, {})).toThrow(message);
  });
});

/** Runs the CLI to its end; for commands that exit by themselves. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`dev-server ${args.join(" ")} did not exit:\n${stdout}${stderr}`));
    }, 120_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe("the dev-server process", () => {
  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [["--port", "abc"], /--port must be a whole number/],
    [["-u", "not a url"], /--sdk-url must be an http\(s\) URL/],
    [["--retry-base", "forever"], /--retry-base must be a duration/],
  ])("exits with code 2 and the usage for %j", async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain("Usage: inngest-dev-server");
  });

  it("prints the usage and exits 0 for --help", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: inngest-dev-server");
    expect(stdout).toContain("--sdk-url");
  });

  it("runs the current sources: a changed source file gets a fresh bundle", async () => {
    const cache = resolve(import.meta.dirname, "../node_modules/.cache/dev-server");
    const bundles = () => readdirSync(cache).filter((name) => /^cli-\w+\.mjs$/.test(name));
    expect((await runCli(["--help"])).code).toBe(0);
    const [before] = bundles();
    expect(before).toBeDefined();
    // An edit, as far as the launcher can tell (it keys the bundle on each source's size and mtime).
    const source = resolve(import.meta.dirname, "../src/durations.ts");
    const { atime, mtime } = statSync(source);
    utimesSync(source, atime, new Date(mtime.getTime() + 1000));
    try {
      expect((await runCli(["--help"])).code).toBe(0);
      // (Other test files may start the server meanwhile: only ask that a new bundle exists.)
      expect(bundles().filter((name) => name !== before)).not.toHaveLength(0);
      // The bundle of the sources as they were stays: a process that found it a moment ago (or
      // starts from those sources again, as every one does once the edit is undone) imports it.
      expect(bundles()).toContain(before);
    } finally {
      utimesSync(source, atime, mtime);
    }
  });

  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it("prints one banner line naming the URL, the storage and how each app's first sync went", async () => {
    const inngest = new Inngest({ id: "banner-app", isDev: true });
    const live = await serveApp(inngest, [
      inngest.createFunction({ id: "f", triggers: [{ event: "t/f" }] }, async () => "ok"),
    ]);
    closers.push(() => live.close());
    const refused = `http://127.0.0.1:${await freePort()}/api/inngest`;
    // An app that takes the connection and never answers: the banner must not wait for it.
    const hanging: Server = createServer(() => {});
    await new Promise<void>((ready) => hanging.listen(0, "127.0.0.1", ready));
    closers.push(async () => {
      hanging.closeAllConnections();
      await new Promise((closed) => hanging.close(closed));
    });
    const stuck = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/api/inngest`;

    const child = spawn(
      process.execPath,
      [bin, "--port", "0", "--storage", "memory://", "-u", live.url, "-u", refused, "-u", stuck],
      { env: cleanEnv() },
    );
    closers.push(async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    });
    let output = "";
    const banner = await new Promise<string>((found, fail) => {
      const timer = setTimeout(() => fail(new Error(`no banner:\n${output}`)), 45_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split("\n").find((candidate) => candidate.includes("listening on"));
        if (line) {
          clearTimeout(timer);
          found(line);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => fail(new Error(`exited with ${code}:\n${output}`)));
    });

    const url = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(banner)?.[1] ?? "";
    expect(url).not.toBe("http://127.0.0.1:0");
    expect(banner).toContain("storage: memory memory://");
    expect(banner).toContain(`${live.url} (synced, 1 function)`);
    expect(banner).toMatch(
      new RegExp(
        `${refused.replace(/[.:/]/g, "\\$&")} \\(not synced yet, retrying: could not reach the app: PUT .*ECONNREFUSED\\)`,
      ),
    );
    expect(banner).toContain(`${stuck} (first sync still running)`);
    // The URL in the banner is the server's.
    const dev = (await (await fetch(`${url}/dev`)).json()) as { startOpts: { sdkURLs: string[] } };
    expect(dev.startOpts.sdkURLs).toEqual([live.url, refused, stuck]);
  });
});
