/**
 * SHA-256 checksums of release artefacts, written next to them in sha256sum's format
 * (`<hex>  <file name>`), so `sha256sum -c musique-linux-x64.sha256` checks a copied binary.
 */
import { basename } from "node:path";

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
