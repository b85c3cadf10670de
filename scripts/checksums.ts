/**
 * SHA-256 checksums of release artefacts, written next to them in sha256sum's format
 * (`<hex>  <file name>`), so `sha256sum -c musique-linux-x64.sha256` checks a copied binary and
 * `sha256sum -c SHA256SUMS` checks every artefact of a release.
 */
import { basename, dirname, join } from "node:path";

/** The hex SHA-256 of a file, read in chunks. */
export async function sha256Of(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Write `<path>.sha256` and return its line. */
export async function writeChecksum(path: string): Promise<string> {
  const line = `${await sha256Of(path)}  ${basename(path)}\n`;
  await Bun.write(`${path}.sha256`, line);
  return line;
}

/** Write SHA256SUMS (one line per file, all in one folder) beside the files; returns its path. */
export async function writeChecksumList(paths: readonly string[]): Promise<string> {
  const folder = dirname(paths[0] ?? ".");
  const lines = await Promise.all(paths.map(async (path) => `${await sha256Of(path)}  ${basename(path)}\n`));
  const list = join(folder, "SHA256SUMS");
  await Bun.write(list, lines.join(""));
  return list;
}
