import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeChecksum } from "../../scripts/checksums.ts";
import { compiledBinary } from "../helpers/cli.ts";

describe("release checksums (bun run build / build:all)", () => {
  test("writeChecksum writes <file>.sha256 in sha256sum's format: the SHA-256, two spaces, the file's name", async () => {
    const folder = mkdtempSync(join(tmpdir(), "musique-sum-"));
    try {
      const path = join(folder, "musique-linux-x64");
      writeFileSync(path, Buffer.alloc(3 * 1024 * 1024, 7));
      await writeChecksum(path);
      const expected = createHash("sha256").update(readFileSync(path)).digest("hex");
      expect(readFileSync(`${path}.sha256`, "utf8")).toBe(`${expected}  musique-linux-x64\n`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  const binary = compiledBinary();
  test.skipIf(binary === undefined)("the built binary has its checksum beside it, and it matches", () => {
    const path = binary ?? "";
    const expected = createHash("sha256").update(readFileSync(path)).digest("hex");
    expect(readFileSync(`${path}.sha256`, "utf8")).toBe(`${expected}  musique\n`);
  });
});
