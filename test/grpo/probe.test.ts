import { afterEach, describe, expect, test } from "bun:test";
import { PROBE_JOB_ID, probeArbor, requireArbor } from "../../src/grpo/arbor.ts";
import { startFakeArbor, type FakeArbor } from "../fakes/arbor.ts";

const fakes: FakeArbor[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.stop()));
});

describe("probeArbor", () => {
  test("a HEAD Arbor answers 400 for an unknown job: running", async () => {
    const server = startFakeArbor();
    fakes.push(server);
    expect(await probeArbor(server.baseUrl)).toEqual({ state: "running", baseUrl: server.baseUrl });
    expect(server.requests[0]).toMatchObject({ method: "POST", path: "/v1/fine_tuning/grpo/status", body: { job_id: PROBE_JOB_ID } });
  });

  test("an older Arbor without /grpo/status: legacy, with the upgrade message", async () => {
    const server = startFakeArbor({ legacy: true });
    fakes.push(server);
    const result = await probeArbor(server.baseUrl);
    expect(result.state).toBe("legacy");
    expect(result.state !== "running" && result.error.fix).toContain("arbor-ai>=0.2.16");
  });

  test("nothing listening: down, with the start command", async () => {
    const server = startFakeArbor();
    const baseUrl = server.baseUrl;
    await server.stop();
    const result = await probeArbor(baseUrl);
    expect(result.state).toBe("down");
    expect(result.state !== "running" && result.error.message).toContain("Arbor is not running");
    expect(result.state !== "running" && result.error.fix).toContain("python -m arbor.cli serve --arbor-config arbor.yaml");
  });

  test("a base URL without the trailing slash still reaches /v1/fine_tuning/grpo/status", async () => {
    const server = startFakeArbor();
    fakes.push(server);
    const result = await probeArbor(server.baseUrl.replace(/\/$/, ""));
    expect(result.state).toBe("running");
  });

  test("requireArbor throws the explanation for a legacy server", async () => {
    const server = startFakeArbor({ legacy: true });
    fakes.push(server);
    await expect(requireArbor(server.baseUrl)).rejects.toThrow("too old");
  });
});
