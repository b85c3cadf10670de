/**
 * A model of a continuous-batching inference server (vLLM, SGLang, TGI), in whatever clock the
 * caller gives it: the fake server of batching-lm.ts runs it in real time, the limiter tests in
 * simulated time.
 *
 * - At most `maxBatch` (K, vLLM's --max-num-seqs) sequences decode at once; later requests wait
 *   in a FIFO queue and join the batch as sequences finish (continuous batching).
 * - Every decoding sequence gets one token per decode step; a step with b sequences takes
 *       t(b) = stepMs · (1 + b / batchForDoubleStep)
 *   so one sequence's token rate falls as the batch grows, while the server's rate b / t(b)
 *   still rises. The shape is decode's roofline: each step reads the weights once (the fixed
 *   part) and every sequence's KV cache (the part that grows with b). For Qwen2.5-7B in bf16
 *   on an H100 SXM (3.35 TB/s): 15.2 GB of weights ≈ 4.5 ms per step; a 2k-token context holds
 *   2048 × 28 layers × 4 KV heads × 128 × 2 (K, V) × 2 bytes ≈ 117 MB ≈ 0.035 ms per sequence
 *   per step, so the step time doubles near b ≈ 130 (compute, ~7 ms per step at b = 512, stays
 *   below the memory time). Defaults: stepMs 5, batchForDoubleStep 128.
 * - A request costs `prefillSteps` steps of its own before its tokens (the prompt) plus its
 *   completion: n tokens drawn from a log-normal (median `medianTokens`, σ `tokenSpread`) with a
 *   seeded generator, at most the request's max_tokens.
 *
 * Time is advanced by the caller (`advance(now)`); `nextEventAt()` says when the next sequence
 * finishes. Cost per event O(log K): every decoding sequence advances alike, so one shared
 * counter of decoded steps replaces per-sequence bookkeeping.
 */
import { mulberry32 } from "../../src/data/random.ts";

export interface BatchingModelOptions {
  /** K: sequences decoding at once. */
  maxBatch: number;
  /** Time of a decode step with one sequence (ms). */
  stepMs?: number;
  /** The batch size at which a step takes twice as long (Infinity: no slowdown). */
  batchForDoubleStep?: number;
  /** Steps of prefill per request. */
  prefillSteps?: number;
  /** Median completion length (tokens). */
  medianTokens?: number;
  /** σ of the log-normal completion length. */
  tokenSpread?: number;
  seed?: number;
}

const DEFAULT_STEP_MS = 5;
const DEFAULT_BATCH_FOR_DOUBLE_STEP = 128;
const DEFAULT_PREFILL_STEPS = 2;
const DEFAULT_MEDIAN_TOKENS = 60;
const DEFAULT_TOKEN_SPREAD = 0.5;

export interface ModelRequest<T> {
  /** Completion tokens drawn for it. */
  tokens: number;
  arrivedAt: number;
  /** When it joined the batch (null while queued). */
  startedAt: number | null;
  /** Whatever the caller attaches (a resolver, an id). */
  payload: T;
  /** Steps it needs in all (prefill + tokens). */
  steps: number;
  /** The shared step count at which it finishes. */
  finishAt: number;
  /** When it finished (null while decoding or queued). */
  finishedAt: number | null;
}

export class BatchingModel<T> {
  readonly maxBatch: number;
  readonly stepMs: number;
  readonly batchForDoubleStep: number;
  readonly prefillSteps: number;
  private readonly medianTokens: number;
  private readonly tokenSpread: number;
  private readonly random: () => number;
  private readonly queue: Array<ModelRequest<T>> = [];
  private queueHead = 0;
  /** Decoding sequences, a min-heap on the step count at which each finishes. */
  private readonly heap: Array<ModelRequest<T>> = [];
  /** Finished while a request arrived, not yet returned by `advance`. */
  private readonly finishedEarly: Array<ModelRequest<T>> = [];
  /** Steps every decoding sequence has taken since the start. */
  private steps = 0;
  private lastAdvance = 0;
  /** Most sequences that decoded at once, and most requests that waited at once. */
  peakBatch = 0;
  peakQueue = 0;

  constructor(options: BatchingModelOptions) {
    if (!(options.maxBatch >= 1)) throw new RangeError(`maxBatch must be ≥ 1, got ${options.maxBatch}`);
    this.maxBatch = options.maxBatch;
    this.stepMs = options.stepMs ?? DEFAULT_STEP_MS;
    this.batchForDoubleStep = options.batchForDoubleStep ?? DEFAULT_BATCH_FOR_DOUBLE_STEP;
    this.prefillSteps = options.prefillSteps ?? DEFAULT_PREFILL_STEPS;
    this.medianTokens = options.medianTokens ?? DEFAULT_MEDIAN_TOKENS;
    this.tokenSpread = options.tokenSpread ?? DEFAULT_TOKEN_SPREAD;
    this.random = mulberry32(options.seed ?? 1);
  }

  /** Decode step time with `batch` sequences (ms). */
  stepTime(batch: number): number {
    return this.stepMs * (1 + batch / this.batchForDoubleStep);
  }

  get decoding(): number {
    return this.heap.length;
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** A completion length: log-normal by Box–Muller on the seeded generator, 1…maxTokens. */
  drawTokens(maxTokens = Number.POSITIVE_INFINITY): number {
    const u = Math.max(Number.MIN_VALUE, this.random());
    const v = this.random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(1, Math.min(maxTokens, Math.round(this.medianTokens * Math.exp(this.tokenSpread * normal))));
  }

  /** A request arrives at `now`; sequences that finished by then are returned by the next `advance`. */
  arrive(now: number, payload: T, maxTokens?: number): ModelRequest<T> {
    this.finishedEarly.push(...this.advance(now));
    const tokens = this.drawTokens(maxTokens);
    const request: ModelRequest<T> = { tokens, arrivedAt: now, startedAt: null, payload, steps: this.prefillSteps + tokens, finishAt: 0, finishedAt: null };
    this.queue.push(request);
    this.admit(now);
    return request;
  }

  /** Move time to `now`; returns the requests that finished, in finishing order. */
  advance(now: number): Array<ModelRequest<T>> {
    const finished: Array<ModelRequest<T>> = this.finishedEarly.splice(0);
    // Finish sequences one event at a time: the batch (and so the step time) changes at each.
    for (;;) {
      const next = this.heap[0];
      const stepTime = this.stepTime(this.heap.length);
      if (next === undefined) break;
      const finishTime = this.lastAdvance + (next.finishAt - this.steps) * stepTime;
      if (finishTime > now + 1e-9) break;
      this.steps = next.finishAt;
      this.lastAdvance = finishTime;
      while (this.heap[0] !== undefined && (this.heap[0] as ModelRequest<T>).finishAt <= this.steps + 1e-9) {
        const done = this.pop();
        done.finishedAt = finishTime;
        finished.push(done);
      }
      this.admit(finishTime);
    }
    if (this.heap.length > 0) this.steps += (now - this.lastAdvance) / this.stepTime(this.heap.length);
    this.lastAdvance = Math.max(this.lastAdvance, now);
    return finished;
  }

  /** When the next decoding sequence finishes (null when none decodes). */
  nextEventAt(): number | null {
    const next = this.heap[0];
    if (next === undefined) return null;
    return this.lastAdvance + (next.finishAt - this.steps) * this.stepTime(this.heap.length);
  }

  private admit(now: number): void {
    while (this.heap.length < this.maxBatch && this.queueHead < this.queue.length) {
      const request = this.queue[this.queueHead] as ModelRequest<T>;
      this.queueHead += 1;
      request.startedAt = now;
      request.finishAt = this.steps + request.steps;
      this.push(request);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.peakBatch = Math.max(this.peakBatch, this.heap.length);
    this.peakQueue = Math.max(this.peakQueue, this.queued);
  }

  private push(request: ModelRequest<T>): void {
    const heap = this.heap;
    heap.push(request);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((heap[parent] as ModelRequest<T>).finishAt <= request.finishAt) break;
      heap[index] = heap[parent] as ModelRequest<T>;
      index = parent;
    }
    heap[index] = request;
  }

  private pop(): ModelRequest<T> {
    const heap = this.heap;
    const top = heap[0] as ModelRequest<T>;
    const last = heap.pop() as ModelRequest<T>;
    if (heap.length > 0) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        let smallestFinish = last.finishAt;
        if (left < heap.length && (heap[left] as ModelRequest<T>).finishAt < smallestFinish) {
          smallest = left;
          smallestFinish = (heap[left] as ModelRequest<T>).finishAt;
        }
        if (right < heap.length && (heap[right] as ModelRequest<T>).finishAt < smallestFinish) smallest = right;
        if (smallest === index) break;
        heap[index] = heap[smallest] as ModelRequest<T>;
        index = smallest;
      }
      heap[index] = last;
    }
    return top;
  }
}
