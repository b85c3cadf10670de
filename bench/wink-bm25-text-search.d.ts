/** Types for `wink-bm25-text-search` 3.x (a dev dependency of the benchmark), which ships none. */
declare module "wink-bm25-text-search" {
  export type PrepTask = (input: string) => string[];
  export interface Bm25Config {
    fldWeights: Record<string, number>;
    bm25Params?: { k1?: number; b?: number; k?: number };
    ovFldNames?: string[];
  }
  export interface Bm25Engine {
    defineConfig(config: Bm25Config): boolean;
    definePrepTasks(tasks: PrepTask[], field?: string): number;
    addDoc(document: Record<string, string>, uniqueId: string | number): number;
    consolidate(fp?: number): boolean;
    /** `[uniqueId, score]` pairs, best first; at most `limit` (default 10). */
    search(text: string, limit?: number): Array<[string, number]>;
  }
  export default function bm25(): Bm25Engine;
}
