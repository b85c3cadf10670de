import { afterAll, describe, expect, test } from "bun:test";
import type { Example } from "../../src/data/types.ts";
import { createRetriever, type RetrieverOptions } from "../../src/retrieval/factory.ts";
import { combineHybrid, hybridShare } from "../../src/retrieval/hybrid.ts";
import { LexicalRetriever } from "../../src/retrieval/lexical.ts";

import type { RankedDocument } from "../../src/retrieval/types.ts";
import { startFakeRerank } from "../fakes/rerank.ts";
import { startFakeTei, type FakeServer } from "../fakes/tei.ts";
import { keepParagraphs, sampleExamples } from "./helpers.ts";

/** The lexical retriever as `--retriever lexical` runs it (the process-wide tokenizer). */
const lexical = new LexicalRetriever();
const rankLexical = lexical.rank.bind(lexical);

const examples = await sampleExamples();
const example = examples[0] as Example;
const servers: FakeServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

function fakeRerank(): FakeServer {
  const server = startFakeRerank();
  servers.push(server);
  return server;
}

function options(url: string, retriever: RetrieverOptions["retriever"]): RetrieverOptions {
  return {
    retriever,
    rerankUrl: url,
    rerankApi: "service",
    rerankModel: "tei",
    rerankTimeout: 5,
    maxRetries: 2,
    concurrency: 4,
    retry: { initialDelayMs: 1, random: () => 0 },
  };
}

function ranked(ids: string[]): RankedDocument[] {
  return ids.map((id) => ({ id, title: id, body: "", text: `# ${id}\n`, isSupporting: false, score: 0 }));
}

const ids = (documents: readonly RankedDocument[]) => documents.map((document) => document.id);

describe("hybrid rule (retrieval.md)", () => {
  test("k = floor(n/2) + 1", () => {
    expect([1, 2, 3, 4, 5].map(hybridShare)).toEqual([1, 2, 2, 3, 3]);
  });

  test("n = 2: the two best semantic documents (hybrid equals semantic)", () => {
    expect(ids(combineHybrid(ranked(["a", "b", "c", "d"]), ranked(["x", "y", "z", "w"]), 2))).toEqual(["a", "b"]);
  });

  test("n = 3: two semantic, then the best lexical", () => {
    expect(ids(combineHybrid(ranked(["a", "b", "c", "d", "e", "f"]), ranked(["x", "y", "z"]), 3))).toEqual(["a", "b", "x"]);
  });

  test("n = 4: three semantic, then one lexical; duplicates dropped", () => {
    expect(ids(combineHybrid(ranked(["a", "b", "c", "d"]), ranked(["b", "x", "y"]), 4))).toEqual(["a", "b", "c", "x"]);
  });

  test("n = 5: three semantic, three lexical, stop at 5", () => {
    expect(ids(combineHybrid(ranked(["a", "b", "c", "d"]), ranked(["x", "y", "z", "w"]), 5))).toEqual(["a", "b", "c", "x", "y"]);
  });

  test("overlapping lists may return fewer than n (no refill from deeper ranks)", () => {
    expect(ids(combineHybrid(ranked(["a", "b", "c", "d"]), ranked(["a", "b", "c", "x"]), 4))).toEqual(["a", "b", "c"]);
  });
});

describe("semantic and hybrid retrievers against the fake rerank service", () => {
  test("semantic: the service's ranking of the example's own documents, top_n", async () => {
    const fake = fakeRerank();
    const documents = await createRetriever(options(fake.url, "semantic")).retrieve(example.question, example, 3);
    expect(documents.length).toBe(3);
    const sent = fake.requests.at(-1)?.body as { documents: string[]; query: string };
    expect(sent.query).toBe(example.question);
    expect(sent.documents.length).toBe(20);
    expect(sent.documents[0]).toBe(`# ${example.paragraphs[0]!.title}\n${example.paragraphs[0]!.text}`);
    for (let i = 1; i < documents.length; i++) expect(documents[i - 1]!.score).toBeGreaterThanOrEqual(documents[i]!.score);
  });

  test("hybrid for n = 1 and 2 equals semantic", async () => {
    const fake = fakeRerank();
    for (const n of [1, 2]) {
      const semantic = await createRetriever(options(fake.url, "semantic")).retrieve(example.question, example, n);
      const hybrid = await createRetriever(options(fake.url, "hybrid")).retrieve(example.question, example, n);
      expect(ids(hybrid)).toEqual(ids(semantic));
    }
  });

  test("hybrid for n = 3, 4, 5 follows the rule on the two real rankings (each asked for 2n)", async () => {
    const fake = fakeRerank();
    for (const n of [3, 4, 5]) {
      const semantic = await createRetriever(options(fake.url, "semantic")).retrieve(example.question, example, 2 * n);
      const lexical = rankLexical(example.question, example, 2 * n);
      const before = fake.requests.length;
      const hybrid = await createRetriever(options(fake.url, "hybrid")).retrieve(example.question, example, n);
      expect(ids(hybrid)).toEqual(ids(combineHybrid(semantic, lexical, n)));
      expect((fake.requests[before]?.body as { top_n: number }).top_n).toBe(2 * n);
    }
  });

  test("top_n larger than the corpus returns the whole corpus once", async () => {
    const fake = fakeRerank();
    const semantic = await createRetriever(options(fake.url, "semantic")).retrieve(example.question, example, 50);
    expect(semantic.length).toBe(20);
    const hybrid = await createRetriever(options(fake.url, "hybrid")).retrieve(example.question, example, 20);
    expect(new Set(ids(hybrid)).size).toBe(hybrid.length);
  });

  test("a corpus of 2 paragraphs after noise filtering: original ids, at most 2 documents", async () => {
    const fake = fakeRerank();
    const filtered = keepParagraphs(example, [1, 8]);
    for (const name of ["semantic", "hybrid", "lexical"] as const) {
      const documents = await createRetriever(options(fake.url, name)).retrieve(filtered.question, filtered, 3);
      expect(ids(documents).sort()).toEqual(["1", "8"]);
    }
    expect((fake.requests.at(-1)?.body as { documents: string[] }).documents.length).toBe(2);
  });

  test("an empty query: semantic makes no service call (paragraph order); lexical gives bm25s's zero-score order", async () => {
    const fake = fakeRerank();
    const semantic = await createRetriever(options(fake.url, "semantic")).retrieve("", example, 2);
    const lexical = await createRetriever(options(fake.url, "lexical")).retrieve("", example, 2);
    expect(ids(semantic)).toEqual(["0", "1"]);
    expect(ids(lexical)).toEqual(["19", "18"]);
    expect(semantic.map((document) => document.score)).toEqual([0, 0]);
    expect(fake.requests.length).toBe(0);
  });

  test("semantic over the tei API talks to TEI directly", async () => {
    const tei = startFakeTei();
    servers.push(tei);
    const retriever = createRetriever({ ...options(tei.url, "semantic"), rerankApi: "tei" });
    await retriever.preflight();
    const documents = await retriever.retrieve(example.question, example, 2);
    expect(documents.length).toBe(2);
    expect(tei.requests.at(-1)?.body).toMatchObject({ raw_scores: false });
  });

  test("hybrid preflight checks the rerank service", async () => {
    const fake = fakeRerank();
    await createRetriever(options(fake.url, "hybrid")).preflight();
    expect(fake.requests.at(-1)).toMatchObject({ method: "GET", path: "/health" });
  });
});

describe("golden and lexical need no service", () => {
  test("golden: all supporting paragraphs in paragraph order, ignoring query and top_n", async () => {
    const retriever = createRetriever({ retriever: "golden" });
    await retriever.preflight();
    for (const sample of examples.slice(0, 20)) {
      const documents = await retriever.retrieve("ignored", sample, 1);
      expect(ids(documents)).toEqual(sample.supportingIds);
      expect(documents.every((document) => document.isSupporting && Number.isNaN(document.score))).toBe(true);
    }
    const fourHop = examples.find((sample) => sample.nHops === 4)!;
    expect((await retriever.retrieve("", fourHop, 2)).length).toBe(4);
  });

  test("lexical preflight needs nothing", async () => {
    await createRetriever({ retriever: "lexical", rerankUrl: "http://127.0.0.1:1" }).preflight();
  });
});

describe("noise filtering (src/data applyNoise)", () => {
  test("noise rate 0 leaves a 2-hop question 2 paragraphs; every retriever still ranks them", async () => {
    const { applyNoise } = await import("../../src/data/prepare.ts");
    const twoHop = examples.find((sample) => sample.nHops === 2)!;
    const filtered = applyNoise(twoHop, 0, 89);
    expect(filtered.paragraphs.length).toBe(2);
    const fake = fakeRerank();
    for (const name of ["lexical", "semantic", "hybrid", "golden"] as const) {
      const documents = await createRetriever(options(fake.url, name)).retrieve(filtered.question, filtered, 5);
      expect(ids(documents).sort()).toEqual([...twoHop.supportingIds].sort());
    }
  });
});
