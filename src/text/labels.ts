/**
 * The labels people read for hop counts and MuSiQue's question shapes, the same in every
 * command, file and page: "2 hops" (JSON keys stay the count, "2"), shapes as MuSiQue names them
 * ("3hop1", the id prefix). A shape is worth its own row only where its hop count has several
 * shapes: "2hop" alone would repeat the "2 hops" row.
 */

/** "1 hop", "2 hops"; a key that is not a count is shown as it is. */
export function hopLabel(hops: number | string): string {
  const count = typeof hops === "number" ? hops : Number(hops);
  if (!Number.isInteger(count)) return String(hops);
  return `${count} hop${count === 1 ? "" : "s"}`;
}

/** The hop count of a shape name ("3hop1" → 3), or null. */
function hopsOfShape(shape: string): number | null {
  const match = /^(\d+)hop/.exec(shape);
  return match ? Number(match[1]) : null;
}

/** The shapes that split a hop count (of those given, in their order); the others repeat a hop row. */
export function shapesWorthShowing(shapes: readonly string[]): string[] {
  const perHops = new Map<number | null, number>();
  for (const shape of shapes) perHops.set(hopsOfShape(shape), (perHops.get(hopsOfShape(shape)) ?? 0) + 1);
  return shapes.filter((shape) => (perHops.get(hopsOfShape(shape)) ?? 0) > 1);
}
