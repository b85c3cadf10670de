import { describe, expect, test } from "bun:test";
import { ExitCode } from "../../src/errors.ts";
import { checkModelServed } from "../../src/lm/preflight.ts";
import { startFakeOpenAI } from "../fakes/openai.ts";
import { startBrokenServer } from "../fakes/broken.ts";
import { serviceError } from "../helpers/errors.ts";

const model = "Qwen/Qwen2.5-7B-Instruct";

describe("checkModelServed (preflight)", () => {
  test("a server that lists the model passes via GET /models, without a chat request", async () => {
    const fake = await startFakeOpenAI({ models: [model] });
    const results = await checkModelServed({ baseUrls: [fake.baseUrl], apiKey: "k", model, requestTimeoutSeconds: 10 });
    expect(results).toEqual([{ baseUrl: fake.baseUrl, method: "models", models: [model], identity: { id: model, root: model } }]);
    expect(fake.counts.chat).toBe(0);
    await fake.stop();
  });

  test("a model that is not listed fails with the served models and exit 5", async () => {
    const fake = await startFakeOpenAI({ models: ["meta-llama/Llama-3.1-8B-Instruct"] });
    const error = await serviceError(checkModelServed({ baseUrls: [fake.baseUrl], apiKey: "k", model, requestTimeoutSeconds: 10 }));
    expect(error.message).toBe(`model "${model}" is not served at ${fake.baseUrl}`);
    expect(error.describe()).toContain("meta-llama/Llama-3.1-8B-Instruct");
    expect(error.exitCode).toBe(ExitCode.rejected);
    await fake.stop();
  });

  test("Arbor (no /models: 404) is checked with a one-token chat request", async () => {
    const fake = await startFakeOpenAI({ flavor: "arbor" });
    const results = await checkModelServed({ baseUrls: [fake.baseUrl], apiKey: "arbor", model, requestTimeoutSeconds: 10 });
    expect(results[0]?.method).toBe("chat");
    expect(fake.chatRequests()[0]).toMatchObject({ model, max_tokens: 1, temperature: 0 });
    await fake.stop();
  });

  test("an unreachable server fails at once with the URL and how to start Arbor", async () => {
    const fake = await startFakeOpenAI();
    await fake.stop();
    const started = Date.now();
    const error = await serviceError(checkModelServed({ baseUrls: [fake.baseUrl], apiKey: "k", model, requestTimeoutSeconds: 10 }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.message).toContain(`${fake.baseUrl}/models`);
    expect(error.fix).toContain("python -m arbor.cli serve --arbor-config arbor.yaml");
    expect(error.exitCode).toBe(ExitCode.service);
  });

  test("a wrong API key fails with the --api-key fix", async () => {
    const fake = await startFakeOpenAI({ apiKey: "secret" });
    const error = await serviceError(checkModelServed({ baseUrls: [fake.baseUrl], apiKey: "wrong", model, requestTimeoutSeconds: 10 }));
    expect(error.fix).toContain("--api-key");
    expect(error.exitCode).toBe(ExitCode.rejected);
    await fake.stop();
  });

  test("GET /models that hangs fails within --request-timeout, the limit its message names", async () => {
    const silent = await startBrokenServer({ kind: "silent" });
    const baseUrl = `${silent.url}v1`;
    const error = await serviceError(checkModelServed({ baseUrls: [baseUrl], apiKey: "k", model, requestTimeoutSeconds: 0.3 }));
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain(`did not answer within 0.3 s (--request-timeout): ${baseUrl}/models`);
    expect(error.fix).toContain("raise --request-timeout");
    await silent.stop();
  });

  test("every endpoint is checked", async () => {
    const first = await startFakeOpenAI({ models: [model] });
    const second = await startFakeOpenAI({ flavor: "arbor" });
    const results = await checkModelServed({ baseUrls: [first.baseUrl, second.baseUrl], apiKey: "k", model, requestTimeoutSeconds: 10 });
    expect(results.map((result) => result.method)).toEqual(["models", "chat"]);
    await Promise.all([first.stop(), second.stop()]);
  });
});
