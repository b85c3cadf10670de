/**
 * Arbor's real server code with GPU stand-ins (../shared/tools/arbor-real; its README) for the
 * conformance suite: start one on 127.0.0.1 with its own state directory under a temporary
 * folder, read its HTTP log, stop it, and prove no process of it is left. Every harness Python
 * process registers itself in <state>/procs/<pid> (with its start time), so "left behind" is
 * checked against that registry and the server's own pid, never by process name. A sentinel
 * process stops the harness if the test process dies without stopping it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface HarnessKnobs {
  gpus: number;
  trainerStartupSeconds?: number;
  vllmStartupSeconds?: number;
  vllmLatencySeconds?: number;
  stepSeconds?: number;
  seed?: number;
}

export interface HttpExchange {
  id: number;
  method: string;
  path: string;
  request: unknown;
  /** Absent when Arbor never answered. */
  status?: number;
  response?: unknown;
  /** Seconds between request and answer. */
  seconds?: number;
}

export interface ArborReal {
  /** http://127.0.0.1:PORT/v1/ */
  url: string;
  stateDirectory: string;
  /** Every request Arbor's app saw (the harness's readiness probe is not logged), in order. */
  exchanges(): HttpExchange[];
  /** Arbor's console, with every vLLM and trainer stand-in line. */
  console(): string;
  stop(): Promise<void>;
  /** Processes of this harness still alive (after stop: must be none). */
  leftovers(): number[];
}

interface LogLine {
  id: number;
  phase: "request" | "response";
  method: string;
  path: string;
  body?: unknown;
  status?: number;
  dt?: number;
}

function processAlive(pid: number, startTime?: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Zombies count as gone (PID 1 does not reap them on this machine).
    if (fields[0] === "Z" || fields[0] === "X") return false;
    return startTime === undefined || Number(fields[19]) === startTime;
  } catch {
    return false;
  }
}

function registered(stateDirectory: string): Array<{ pid: number; startTime?: number }> {
  const entries: Array<{ pid: number; startTime?: number }> = [];
  const server = join(stateDirectory, "server.json");
  if (existsSync(server)) {
    const record = JSON.parse(readFileSync(server, "utf8")) as { pid: number; starttime?: number };
    entries.push({ pid: record.pid, ...(record.starttime === undefined ? {} : { startTime: record.starttime }) });
  }
  const procs = join(stateDirectory, "procs");
  if (existsSync(procs)) {
    for (const name of readdirSync(procs)) {
      try {
        const record = JSON.parse(readFileSync(join(procs, name), "utf8")) as { pid: number; starttime?: number };
        entries.push({ pid: record.pid, ...(record.starttime === undefined ? {} : { startTime: record.starttime }) });
      } catch {
        // a registry file being written: its process is checked by the next call
      }
    }
  }
  return entries;
}

/** Start the harness at `tool` (the arbor-real folder). Throws with its stderr when it cannot start. */
export async function startArborReal(tool: string, knobs: HarnessKnobs): Promise<ArborReal> {
  const stateDirectory = join(mkdtempSync(join(tmpdir(), "musique-arbor-real-")), "state");
  const flags = ["--port", "0", "--gpus", String(knobs.gpus), "--state-dir", stateDirectory];
  const optional: Array<[string, number | undefined]> = [
    ["--trainer-startup-s", knobs.trainerStartupSeconds],
    ["--vllm-startup-s", knobs.vllmStartupSeconds],
    ["--vllm-latency-s", knobs.vllmLatencySeconds],
    ["--step-s", knobs.stepSeconds],
    ["--seed", knobs.seed],
  ];
  for (const [flag, value] of optional) if (value !== undefined) flags.push(flag, String(value));
  const child = Bun.spawn([join(tool, "start"), ...flags], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const url = /ARBOR_URL=(\S+)/.exec(stdout)?.[1];
  if (exitCode !== 0 || !url) throw new Error(`arbor-real start exited ${exitCode}: ${stderr.trim() || stdout.trim()}`);
  if (!url.startsWith("http://127.0.0.1:")) throw new Error(`arbor-real listens on ${url}, not loopback`);
  const logPath = join(stateDirectory, "arbor-http.jsonl");
  // If the test process dies before its afterAll (SIGKILL, a runner's SIGTERM), a sentinel in its
  // own session stops the harness: nothing is left behind either way.
  const sentinel = Bun.spawn(
    [
      "setsid",
      "bash",
      "-c",
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" --state-dir "$3"',
      "sentinel",
      String(process.pid),
      join(tool, "stop"),
      stateDirectory,
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
  );
  sentinel.unref();
  let stopped = false;
  return {
    url,
    stateDirectory,
    exchanges: () => {
      if (!existsSync(logPath)) return [];
      const byId = new Map<number, HttpExchange>();
      for (const line of readFileSync(logPath, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        const entry = JSON.parse(line) as LogLine;
        if (entry.phase === "request") {
          byId.set(entry.id, { id: entry.id, method: entry.method, path: entry.path, request: entry.body });
        } else {
          const exchange = byId.get(entry.id);
          if (exchange) Object.assign(exchange, { status: entry.status, response: entry.body, seconds: entry.dt });
        }
      }
      return [...byId.values()];
    },
    console: () => {
      const path = join(stateDirectory, "arbor-server.out");
      return existsSync(path) ? readFileSync(path, "utf8") : "";
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      sentinel.kill();
      const stop = Bun.spawn([join(tool, "stop"), "--state-dir", stateDirectory], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      const [out, err, code] = await Promise.all([new Response(stop.stdout).text(), new Response(stop.stderr).text(), stop.exited]);
      if (code !== 0) throw new Error(`arbor-real stop exited ${code}: ${err.trim() || out.trim()}`);
    },
    leftovers: () =>
      registered(stateDirectory)
        .filter((entry) => processAlive(entry.pid, entry.startTime))
        .map((entry) => entry.pid),
  };
}
