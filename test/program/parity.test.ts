/**
 * Parity with the real DSPy 3.0.2 program (issue 16 acceptance; test/fixtures/dspy-reference/):
 * every recorded configuration is replayed through musique's program with the replay LM. For each
 * example musique sends DSPy's requests byte for byte, in order, with no extra body keys, and gets
 * DSPy's answer, retrieved ids and scores. The one difference on purpose: an empty chat reply is a
 * format failure in musique (DSPy carries on with None), so there musique stops after that
 * request and scores 0. With --no-json-fallback the only further differences are the missing
 * JSON calls and their consequences (a format failure where DSPy's fallback ran).
 */
import { describe, expect, test } from "bun:test";
import { CONFIGS, differences, replayConfig } from "./parity-helpers.ts";

describe("DSPy 3.0.2 parity: every recorded configuration, JSON fallback on (the default)", () => {
  for (const config of CONFIGS) {
    test(`${config}: every example sends DSPy's requests and gets DSPy's answer, retrieved ids and scores`, async () => {
      const replay = await replayConfig(config, true);
      const problems = replay.examples.flatMap((entry) => differences(entry).map((problem) => `${entry.example.id}: ${problem}`));
      const emptyStops = replay.examples.filter((entry) => entry.expected.stop === "empty").length;
      const identical = replay.examples.filter((entry) => entry.expected.stop === null && differences(entry).length === 0).length;
      console.log(
        `parity ${config}: requests matched ${replay.requestsMatched}/${replay.requestsSent} sent (DSPy made ${replay.requestsRecorded}); ` +
          `examples identical to DSPy ${identical}/${replay.examples.length}, ${emptyStops} stopped at an empty reply by design`,
      );
      expect(problems).toEqual([]);
      expect(replay.requestsMatched).toBe(replay.requestsSent);
      expect(replay.examples.length).toBe(40);
    });
  }
});

describe("DSPy 3.0.2 parity with --no-json-fallback", () => {
  for (const config of CONFIGS) {
    test(`${config}: the only differences are the missing JSON calls and the format failures they leave`, async () => {
      const replay = await replayConfig(config, false);
      const problems = replay.examples.flatMap((entry) => differences(entry).map((problem) => `${entry.example.id}: ${problem}`));
      expect(problems).toEqual([]);
      expect(replay.requestsMatched).toBe(replay.requestsSent);
      expect(replay.examples.some((entry) => entry.expected.stop === "format")).toBe(true);
    });
  }
});
