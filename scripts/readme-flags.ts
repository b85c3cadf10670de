/** Rewrites the flags table between <!-- FLAGS --> markers in README.md. */
import { flagsTable } from "./flags-table.ts";

const path = new URL("../README.md", import.meta.url).pathname;
const readme = await Bun.file(path).text();
const updated = readme.replace(/<!-- FLAGS -->[\s\S]*<!-- \/FLAGS -->/, `<!-- FLAGS -->\n${flagsTable()}\n<!-- /FLAGS -->`);
await Bun.write(path, updated);
console.error(updated === readme ? "README flags table already current" : "README flags table updated");
