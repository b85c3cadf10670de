import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DEFAULTS } from "../../src/config/defaults.ts";
import { ROOT } from "../helpers/cli.ts";

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  volumes?: Array<string | { type: string; source: string; target: string; read_only?: boolean; bind?: Record<string, unknown> }>;
  entrypoint?: string[];
  environment?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; start_period?: string };
  deploy?: { resources: { reservations: { devices: Array<{ driver: string; capabilities: string[] }> } } };
}

const compose = Bun.YAML.parse(await Bun.file(join(ROOT, "docker-compose.yml")).text()) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(s|m)$/.exec(duration ?? "");
  if (!match) return 0;
  return Number(match[1]) * (match[2] === "m" ? 60 : 1);
}

describe("docker-compose.yml", () => {
  const tei = compose.services["tei-reranker"]!;
  const rerank = compose.services.rerank!;

  test("tei-reranker: TEI 1.6 serving BAAI/bge-reranker-v2-m3 on host port 8930", () => {
    expect(tei.image).toBe("ghcr.io/huggingface/text-embeddings-inference:1.6");
    expect(tei.command?.join(" ")).toContain("--model-id BAAI/bge-reranker-v2-m3");
    expect(tei.ports).toEqual(["8930:80"]);
    expect(new URL(DEFAULTS.teiUrl).port).toBe("8930");
  });

  test("tei-reranker: reserves an NVIDIA GPU", () => {
    const devices = tei.deploy?.resources.reservations.devices ?? [];
    expect(devices[0]?.driver).toBe("nvidia");
    expect(devices[0]?.capabilities).toContain("gpu");
  });

  test("tei-reranker: health check on /health with a long start period; model cache in a volume", () => {
    expect(tei.healthcheck?.test.join(" ")).toContain("/health");
    expect(seconds(tei.healthcheck?.start_period)).toBeGreaterThanOrEqual(120);
    const volume = tei.volumes?.[0];
    const cache = typeof volume === "string" ? (volume.split(":")[0] ?? "") : "";
    expect(Object.keys(compose.volumes)).toContain(cache);
  });

  test("rerank: the musique binary itself (MUSIQUE_BINARY, ./musique by default) mounted read-only into a slim image, never created as a folder", () => {
    expect(rerank.build).toBeUndefined();
    expect(rerank.image).toBe("debian:bookworm-slim");
    expect(rerank.entrypoint).toEqual(["/usr/local/bin/musique"]);
    expect(rerank.volumes).toEqual([
      {
        type: "bind",
        source: "${MUSIQUE_BINARY:-./musique}",
        target: "/usr/local/bin/musique",
        read_only: true,
        bind: { create_host_path: false },
      },
    ]);
  });

  test("rerank: host port 8931, TEI at http://tei-reranker:80, waits for TEI to be healthy", () => {
    expect(rerank.ports).toEqual(["8931:8931"]);
    expect(new URL(DEFAULTS.rerankUrl).port).toBe("8931");
    expect(rerank.environment).toContain("TEI_RERANK_URL=http://tei-reranker:80");
    expect(rerank.depends_on?.["tei-reranker"]?.condition).toBe("service_healthy");
    expect(rerank.command).toEqual(["serve", "rerank", "--host", "0.0.0.0", "--port", "8931"]);
  });
});

describe("Dockerfile", () => {
  test("builds the binary with bun build --compile in oven/bun:1.4", () => {
    expect(dockerfile).toMatch(/^FROM oven\/bun:1\.4 AS build$/m);
    expect(dockerfile).toContain("bun build --compile");
  });

  test("runs `musique serve rerank --host 0.0.0.0 --port 8931` in a slim image", () => {
    const stages = dockerfile.match(/^FROM .*$/gm) ?? [];
    expect(stages.length).toBe(2);
    expect(stages[1]).toContain("slim");
    expect(dockerfile).toContain('ENTRYPOINT ["musique"]');
    expect(dockerfile).toContain('CMD ["serve", "rerank", "--host", "0.0.0.0", "--port", "8931"]');
  });
});
