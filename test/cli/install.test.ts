/**
 * Install without root (issue 18 item 5), as an ordinary user follows the README: run as root,
 * this test switches to the unprivileged user `nobody` (setpriv, else runuser) with HOME in a
 * fresh temporary folder and no network, and runs
 *   - the README's npm line (`npm install --global --prefix ~/.local bun@1.4.5 && export PATH=…`)
 *     with a local package in place of bun@1.4.5 (no registry offline): it must install into
 *     ~/.local and put its command on PATH, where plain `npm install --global` fails with EACCES;
 *   - the README's node install block (NODE-INSTALL: sha256sum -c, install into ~/.local/bin,
 *     musique init) on the compiled binary and its checksum, then the first evaluation (on the
 *     bundled sample, against a fake OpenAI-compatible server), runs and report, recording into
 *     the per-user default database ~/.local/share/musique/musique.db.
 * What it does not prove: that the registry's bun@1.4.5 installs (that needs the network), or
 * `bun install` / `bun run build` from a clone as that user. Not root, or neither setpriv nor
 * runuser, or no `nobody`: skipped with one line saying why.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeChecksum } from "../../scripts/checksums.ts";
import { startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { ROOT, compiledBinary } from "../helpers/cli.ts";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** The user the test becomes, and how; or why it cannot. */
function unprivileged(): { uid: number; gid: number; become: string[] } | string {
  if (process.getuid?.() !== 0) return "not running as root, so there is no other user to become";
  const id = (flag: string) => Bun.spawnSync(["id", flag, "nobody"], { stdout: "pipe", stderr: "pipe" });
  const [uid, gid] = [id("-u"), id("-g")].map((result) => (result.exitCode === 0 ? Number(result.stdout.toString().trim()) : NaN));
  if (uid === undefined || gid === undefined || Number.isNaN(uid) || Number.isNaN(gid)) return "there is no user `nobody` to become";
  const setpriv = Bun.which("setpriv");
  if (setpriv) return { uid, gid, become: [setpriv, `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"] };
  const runuser = Bun.which("runuser");
  if (runuser) return { uid, gid, become: [runuser, "-u", "nobody", "--"] };
  return "neither setpriv nor runuser is installed";
}

const user = unprivileged();
const why = typeof user === "string" ? user : null;
if (why) console.log(`skipped the non-root install test: ${why}`);
const binary = compiledBinary();

let folder = "";
let home = "";
let fake: FakeOpenAI | undefined;

beforeAll(async () => {
  if (typeof user === "string") return;
  folder = mkdtempSync(join(tmpdir(), "musique-install-"));
  chmodSync(folder, 0o755);
  home = join(folder, "home");
  mkdirSync(home);
  chownSync(home, user.uid, user.gid);
  fake = await startFakeOpenAI({});
});
afterAll(async () => {
  await fake?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** Run a bash script as the unprivileged user, in HOME, with a minimal environment. */
async function asUser(script: string): Promise<{ exitCode: number; output: string }> {
  if (typeof user === "string") throw new Error(user);
  const env = ["/usr/bin/env", "-i", `HOME=${home}`, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HF_HUB_OFFLINE=1"];
  const child = Bun.spawn([...user.become, ...env, "bash", "-euo", "pipefail", "-c", `cd "$HOME"\n${script}`], {
    cwd: folder,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, output: stdout + stderr };
}

/** A tiny npm package with a command, packed as a tarball anyone can read: bun@1.4.5's stand-in offline. */
function probePackage(): string {
  const source = join(folder, "install-probe");
  mkdirSync(source);
  writeFileSync(join(source, "package.json"), JSON.stringify({ name: "install-probe", version: "1.0.0", bin: { "install-probe": "probe.js" } }));
  writeFileSync(join(source, "probe.js"), '#!/usr/bin/env node\nconsole.log("install-probe ran");\n');
  const pack = Bun.spawnSync(["npm", "pack", source, "--pack-destination", folder], { cwd: folder, stdout: "pipe", stderr: "pipe" });
  if (pack.exitCode !== 0) throw new Error(`npm pack failed: ${pack.stderr.toString()}`);
  const tarball = join(folder, "install-probe-1.0.0.tgz");
  chmodSync(tarball, 0o644);
  return tarball;
}

describe("install without root, as the README says", () => {
  test.skipIf(why !== null || Bun.which("npm") === null)(
    "the README's npm line with --prefix ~/.local installs a command an ordinary user can run; without the prefix npm needs root",
    async () => {
      const line = readme.split("\n").find((text) => text.startsWith("npm install --global --prefix ~/.local bun@1.4.5"));
      expect(line).toBeDefined();
      const tarball = probePackage();
      const offline = (line ?? "").replace("bun@1.4.5", `${tarball} --offline --no-audit --no-fund`);
      const installed = await asUser(`${offline}\ncommand -v install-probe\ninstall-probe`);
      expect(installed.output).toContain(`${home}/.local/bin/install-probe\ninstall-probe ran`);
      expect(installed.exitCode).toBe(0);
      const global = await asUser(`npm install --global ${tarball} --offline --no-audit --no-fund`);
      expect(global.exitCode).not.toBe(0);
      expect(global.output).toContain("EACCES");
    },
    60_000,
  );

  test.skipIf(why !== null || binary === undefined)(
    "the README's node install block (sha256sum -c, ~/.local/bin, musique init), then a first evaluation, runs and report, all as an ordinary user",
    async () => {
      const block = /<!-- NODE-INSTALL -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
      expect(block).toContain("musique init");
      // What the user copied to the node: the release artefact and its checksum.
      const artefact = join(home, "musique-linux-x64");
      copyFileSync(binary ?? "", artefact);
      await writeChecksum(artefact);
      for (const path of [artefact, `${artefact}.sha256`]) if (typeof user !== "string") chownSync(path, user.uid, user.gid);
      const evaluate = `musique evaluate --base-url ${fake?.baseUrl} --model Qwen/Qwen2.5-7B-Instruct --retriever lexical --datasets sample --limit 5 --run-name first`;
      const result = await asUser(`${block}\n${evaluate}\nmusique runs\nmusique report first`);
      expect(result.output).toContain("musique-linux-x64: OK");
      expect(result.output).toMatch(/^first\s+evaluate\s+completed\s/m);
      expect(result.exitCode).toBe(0);
      for (const name of ["docker-compose.yml", "arbor.yaml", "README.md"]) expect(existsSync(join(home, "musique", name))).toBe(true);
      const database = join(home, ".local", "share", "musique", "musique.db");
      expect(typeof user !== "string" && statSync(database).uid === user.uid).toBe(true);
    },
    120_000,
  );
});
