import packageJson from "../package.json" with { type: "json" };

declare const BUILD_COMMIT: string | undefined;

export const VERSION: string = packageJson.version;

/** The git commit the binary was built from (scripts/build.ts defines it), or "dev". */
const BUILD: string = typeof BUILD_COMMIT === "string" ? BUILD_COMMIT : "dev";

export function versionLine(): string {
  return `musique ${VERSION} (bun ${Bun.version}, commit ${BUILD})`;
}
