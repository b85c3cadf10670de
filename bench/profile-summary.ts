/**
 * Self time of a V8/Bun .cpuprofile by function and by source file (bench/profile-evaluate.ts).
 *
 *   bun bench/profile-summary.ts FILE.cpuprofile [TOP]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

const file = process.argv[2];
if (file === undefined) throw new Error("usage: bun bench/profile-summary.ts FILE.cpuprofile [TOP]");
const top = Number(process.argv[3] ?? "40");
const profile = (await Bun.file(file).json()) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let index = 0; index < samples.length; index++) {
  const id = samples[index] as number;
  selfMs.set(id, (selfMs.get(id) ?? 0) + (deltas[index] ?? 0) / 1000);
}
const total = [...selfMs.values()].reduce((sum, value) => sum + value, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, ms] of selfMs) {
  const node = byId.get(id);
  if (node === undefined) continue;
  const url = node.callFrame.url.replace(/^.*\/(src|bench|test|node_modules)\//, "$1/") || "(native)";
  const name = `${node.callFrame.functionName || "(anonymous)"}  ${url}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  byFile.set(url, (byFile.get(url) ?? 0) + ms);
}
const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (of ${total.toFixed(0)} ms sampled)`);
  for (const [name, ms] of [...map].sort((left, right) => right[1] - left[1]).slice(0, top)) {
    console.log(`${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${name}`);
  }
};
show("self time by file", byFile);
show("self time by function", byFunction);
export {};
