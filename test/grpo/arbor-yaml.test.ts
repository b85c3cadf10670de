import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const path = join(import.meta.dir, "../../arbor.yaml");

describe("arbor.yaml", () => {
  test("holds only the keys HEAD Arbor reads: storage_path and inactivity_timeout", async () => {
    const config = Bun.YAML.parse(await Bun.file(path).text()) as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual(["inactivity_timeout", "storage_path"]);
    expect(typeof config.storage_path).toBe("string");
    expect(Number.isInteger(config.inactivity_timeout)).toBe(true);
  });

  test("explains how to start Arbor and where the GPU split is set", async () => {
    const text = await Bun.file(path).text();
    expect(text).toContain("python -m arbor.cli serve --arbor-config arbor.yaml");
    expect(text).toContain("gpu_config");
    expect(text).toContain("--num-inference-gpus 1 --num-training-gpus 2");
    expect(text).toContain("CUDA_VISIBLE_DEVICES=0,1,2");
  });
});
