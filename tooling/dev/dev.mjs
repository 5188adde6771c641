#!/usr/bin/env node
// `pnpm dev`: the dev server and the three apps, each running its package's own `dev` script, with
// their output prefixed as turbo prefixes it. Started directly (the script under `sh`, with the
// package's node_modules/.bin on PATH, as pnpm runs it) rather than through `turbo run dev`, which
// starts a turbo daemon and one `pnpm run` per package: 6 extra Node processes and about 560 MB of
// memory that do nothing but wait (measured; README, "The apps").
//
//   pnpm dev                   the dev server and every app
//   pnpm dev --filter next     one app (or several: --filter astro --filter remix) and the dev server
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
// The ports are those of the packages' own dev scripts (and of the dev server's -u flags).
const DEV_SERVER = { name: "@repo/dev-server", dir: "packages/dev-server", port: 8288 };
const APPS = [
  { name: "next", dir: "apps/next", port: 3001 },
  { name: "astro", dir: "apps/astro", port: 3002 },
  { name: "remix", dir: "apps/remix", port: 3003 },
];

function usage(message) {
  console.error(
    `pnpm dev: ${message}\nusage: pnpm dev [--filter <${APPS.map((a) => a.name).join("|")}>]...`,
  );
  process.exit(2);
}

const filters = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--filter" || arg === "-F") filters.push(args[++i] ?? usage("--filter needs an app"));
  else if (arg.startsWith("--filter=")) filters.push(arg.slice("--filter=".length));
  else usage(`unknown argument ${arg}`);
}
for (const name of filters) {
  if (!APPS.some((app) => app.name === name)) usage(`no app named "${name}"`);
}
const selected = [
  DEV_SERVER,
  ...APPS.filter((app) => filters.length === 0 || filters.includes(app.name)),
];

const COLORS = [36, 35, 33, 32, 34];
const children = new Set();
let stopping = false;

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGTERM"); // the script's whole process group
    } catch {}
  }
  const timer = setTimeout(() => {
    for (const child of children) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }
    process.exit(code);
  }, 5000);
  timer.unref();
  const check = setInterval(() => {
    if (children.size === 0) process.exit(code);
  }, 100);
  check.unref();
}

function prefixLines(stream, prefix, target) {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) target.write(`${prefix}${line}\n`);
  });
  stream.on("end", () => {
    if (pending) target.write(`${prefix}${pending}\n`);
  });
}

selected.forEach((pkg, index) => {
  const dir = join(root, pkg.dir);
  const script = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).scripts?.dev;
  if (!script) usage(`${pkg.name} has no dev script`);
  const bins = [join(dir, "node_modules/.bin"), join(root, "node_modules/.bin")];
  const child = spawn("sh", ["-c", script], {
    cwd: dir,
    env: { ...process.env, PATH: [...bins, process.env.PATH].join(delimiter) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so that stopping it stops what the script started
  });
  children.add(child);
  const prefix = `\u001b[${COLORS[index % COLORS.length]}m${pkg.name}:dev:\u001b[0m `;
  prefixLines(child.stdout, prefix, process.stdout);
  prefixLines(child.stderr, prefix, process.stderr);
  child.on("exit", (code, signal) => {
    children.delete(child);
    if (!stopping) {
      console.error(`${prefix}exited (${signal ?? code}): stopping the others`);
      stopAll(code || 1);
    }
  });
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stopAll(0));

const POLL_MS = 100;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** True once something accepts connections on the port. */
function listening(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * One request to 127.0.0.1; answers the status and the body, or status 0 when it failed. (node:http
 * rather than fetch: loading fetch's undici took this process from 44 to 65 MB.)
 */
function httpRequest(port, method, path, json) {
  const body = json === undefined ? undefined : JSON.stringify(json);
  return new Promise((resolve) => {
    const sent = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: {
          ...(body ? { "content-type": "application/json" } : {}),
          // A dev server started with a signing key (it reads INNGEST_SIGNING_KEY) wants it.
          ...(port === DEV_SERVER.port && process.env.INNGEST_SIGNING_KEY
            ? { authorization: `Bearer ${process.env.INNGEST_SIGNING_KEY}` }
            : {}),
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on("error", () => resolve({ status: 0, body: "" }));
      },
    );
    sent.on("error", () => resolve({ status: 0, body: "" }));
    sent.end(body);
  });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function untilListening(port) {
  while (!stopping && !(await listening(port))) await sleep(POLL_MS);
}

/**
 * The dev server retries an app that is not up yet on a back-off that grows to 5 s, so an app that
 * came up just after an attempt waited that long to be synced. Here each app is synced the moment
 * it listens: the dev server's sync (its PUT to the app) is asked for at once, and again as soon as
 * an attempt fails (a PUT waits while the app compiles its route, so this is no busy loop), until
 * one succeeds; from then on the dev server keeps the app synced as usual.
 */
async function syncWhenListening(app) {
  const url = `http://127.0.0.1:${app.port}/api/inngest`;
  await untilListening(DEV_SERVER.port);
  await untilListening(app.port);
  const deadline = Date.now() + 120_000;
  while (!stopping && Date.now() < deadline) {
    const answer = await httpRequest(DEV_SERVER.port, "POST", "/api/apps/sync", { url });
    if (answer.status === 200 && parseJson(answer.body)?.data?.[0]?.ok === true) return true;
    await sleep(POLL_MS * 5);
  }
  return false;
}

/**
 * Under their dev servers the apps open their databases on first use, so that creating them (about
 * 7 s of CPU each on a fresh clone) does not compete with the sync and the first compiles. Once
 * every app is synced, each is asked for something that reads its database, one after the other,
 * so that the databases are ready by the time the first page asks.
 */
async function openDatabasesOnceSynced(apps) {
  const synced = await Promise.all(apps.map(syncWhenListening));
  for (const [index, app] of apps.entries()) {
    if (stopping || !synced[index]) continue;
    await httpRequest(app.port, "GET", "/api/flows/hello/results");
  }
}

void openDatabasesOnceSynced(selected.filter((pkg) => pkg !== DEV_SERVER));
