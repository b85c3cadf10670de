# musique as a container: the rerank service (`musique serve rerank`) by default; any other
# command works too (`docker run … musique retrieve --datasets sample --retriever lexical`).
#   docker build -t musique .          docker compose up rerank

# ---- build: one self-contained binary --------------------------------------------------------
FROM oven/bun:1.4 AS build
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY tsconfig.json ./
COPY src ./src
ARG BUILD_COMMIT=docker
RUN bun build --compile --minify-syntax \
      --define "BUILD_COMMIT=\"${BUILD_COMMIT}\"" \
      src/cli/main.ts src/store/writer-worker.ts src/worker/entry.ts --outfile /out/musique \
 && /out/musique --version

# ---- runtime: a slim glibc image with only the binary ----------------------------------------
FROM debian:bookworm-slim AS runtime
RUN useradd --create-home --uid 10001 musique
COPY --from=build /out/musique /usr/local/bin/musique
USER musique
WORKDIR /home/musique
ENV TEI_RERANK_URL=http://tei-reranker:80
EXPOSE 8931
# No curl in the slim image: ask /health over bash's /dev/tcp and expect HTTP 200 (503 while TEI is down).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8931 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200'"]
ENTRYPOINT ["musique"]
CMD ["serve", "rerank", "--host", "0.0.0.0", "--port", "8931"]
