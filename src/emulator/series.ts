/**
 * Per-version simulated traffic, stored as counters per time bucket in two fixed rings:
 * 1-second buckets for the last hour (so a 10 s window is exact) and 1-minute buckets for
 * the last 24 h (the longest window the contract allows). A slot is reused when time wraps
 * round, so memory per version is constant however long the emulator runs and whatever
 * the rps. The Prometheus exposition does not read these rings: counters must never drop when
 * a slot is reused, so it reads running totals kept beside them (simulation.ts).
 */
import { LATENCY_BINS } from './latency.js';

export const FINE_BUCKET_MS = 1_000;
export const FINE_BUCKETS = 3_600;
export const COARSE_BUCKET_MS = 60_000;
/** 24 h plus slack, so a full 24 h window ending now is always covered. */
export const COARSE_BUCKETS = 24 * 60 + 2;

export interface Aggregate {
  requests: number;
  errors: number;
  /** Sum over requests of each request's cost per token. */
  cost: number;
  latency: Float64Array;
}

export function emptyAggregate(): Aggregate {
  return { requests: 0, errors: 0, cost: 0, latency: new Float64Array(LATENCY_BINS) };
}

/** Slots per page of latency counts: a ring's pages are allocated as time first reaches them. */
const PAGE_SLOTS = 60;

/**
 * Counters per time bucket in `size` slots, a slot reused as time wraps round. The version
 * series below keep two; a route's health window (route-traffic.ts) keeps one of six.
 */
export class Ring {
  private readonly bucketIndex: Float64Array;
  readonly requests: Float64Array;
  readonly errors: Float64Array;
  readonly cost: Float64Array;
  /**
   * Counts per latency bin, LATENCY_BINS per slot, in pages of PAGE_SLOTS slots. A full ring
   * is 1.8 MB (fine) and 0.7 MB (coarse) per version; allocating pages on first use keeps an
   * emulator holding hundreds of versions, most of them read for minutes, to what it holds.
   */
  private readonly pages: (Float32Array | undefined)[];

  constructor(
    readonly bucketMs: number,
    readonly size: number,
  ) {
    this.bucketIndex = new Float64Array(size).fill(-1);
    this.requests = new Float64Array(size);
    this.errors = new Float64Array(size);
    this.cost = new Float64Array(size);
    this.pages = new Array(Math.ceil(size / PAGE_SLOTS)).fill(undefined);
  }

  /** The slot holding `bucket`, clearing whatever older bucket used it before; -1 if none and !create. */
  slot(bucket: number, create: boolean): number {
    const slot = bucket % this.size;
    if (this.bucketIndex[slot] === bucket) return slot;
    if (!create) return -1;
    this.bucketIndex[slot] = bucket;
    this.requests[slot] = 0;
    this.errors[slot] = 0;
    this.cost[slot] = 0;
    const page = this.pages[Math.floor(slot / PAGE_SLOTS)];
    const base = (slot % PAGE_SLOTS) * LATENCY_BINS;
    page?.fill(0, base, base + LATENCY_BINS);
    return slot;
  }

  add(
    slot: number,
    requests: number,
    errors: number,
    cost: number,
    binCounts: ArrayLike<number>,
    lo: number,
    binCount: number,
  ): void {
    this.requests[slot] = (this.requests[slot] ?? 0) + requests;
    this.errors[slot] = (this.errors[slot] ?? 0) + errors;
    this.cost[slot] = (this.cost[slot] ?? 0) + cost;
    const pageIndex = Math.floor(slot / PAGE_SLOTS);
    let page = this.pages[pageIndex];
    if (!page) {
      // A ring smaller than a page (a health window's six slots) gets a page of its size.
      page = new Float32Array(Math.min(PAGE_SLOTS, this.size) * LATENCY_BINS);
      this.pages[pageIndex] = page;
    }
    const base = (slot % PAGE_SLOTS) * LATENCY_BINS + lo;
    for (let i = 0; i < binCount; i++) {
      const count = binCounts[i] ?? 0;
      if (count !== 0) page[base + i] = (page[base + i] ?? 0) + count;
    }
  }

  addTo(into: Aggregate, slot: number, fraction: number): void {
    into.requests += (this.requests[slot] ?? 0) * fraction;
    into.errors += (this.errors[slot] ?? 0) * fraction;
    into.cost += (this.cost[slot] ?? 0) * fraction;
    const page = this.pages[Math.floor(slot / PAGE_SLOTS)];
    if (!page) return;
    const base = (slot % PAGE_SLOTS) * LATENCY_BINS;
    for (let i = 0; i < LATENCY_BINS; i++) {
      const count = page[base + i] ?? 0;
      if (count !== 0) into.latency[i] = (into.latency[i] ?? 0) + count * fraction;
    }
  }

  /** Slots holding a bucket newer than `oldestBucket`. */
  retained(oldestBucket: number): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if ((this.bucketIndex[i] ?? -1) >= oldestBucket) n++;
    return n;
  }
}

export class VersionSeries {
  static readonly capacity = FINE_BUCKETS + COARSE_BUCKETS;
  private readonly fine = new Ring(FINE_BUCKET_MS, FINE_BUCKETS);
  private readonly coarse = new Ring(COARSE_BUCKET_MS, COARSE_BUCKETS);

  /**
   * Adds traffic that happened at time `t`: counts, and the requests' latencies as counts
   * per histogram bin, `binCounts[i]` for bin `lo + i`. `coarseOnly`: traffic older than the
   * 1-second ring's hour, simulated a minute at a time, which only the 1-minute ring keeps.
   */
  record(
    t: number,
    requests: number,
    errors: number,
    cost: number,
    binCounts: ArrayLike<number>,
    lo: number,
    binCount: number,
    coarseOnly = false,
  ): void {
    if (!coarseOnly) {
      const fineSlot = this.fine.slot(Math.floor(t / FINE_BUCKET_MS), true);
      this.fine.add(fineSlot, requests, errors, cost, binCounts, lo, binCount);
    }
    const coarseSlot = this.coarse.slot(Math.floor(t / COARSE_BUCKET_MS), true);
    this.coarse.add(coarseSlot, requests, errors, cost, binCounts, lo, binCount);
  }

  /**
   * Adds the traffic of [start, end) to `into`. Buckets the window only partly covers are
   * prorated, assuming traffic was even inside a bucket. `simulatedUntil` is how far the
   * simulation has run: the last second may be only partly simulated.
   */
  aggregate(start: number, end: number, simulatedUntil: number, into: Aggregate): void {
    if (!(end > start) || simulatedUntil <= 0) return;
    const lastSecond = Math.floor((simulatedUntil - 1) / FINE_BUCKET_MS);
    const fineFrom = (lastSecond - FINE_BUCKETS + 1) * FINE_BUCKET_MS;
    const lastMinute = Math.floor((simulatedUntil - 1) / COARSE_BUCKET_MS);
    const coarseFrom = (lastMinute - COARSE_BUCKETS + 1) * COARSE_BUCKET_MS;
    let t = Math.max(start, coarseFrom);
    const stop = Math.min(end, simulatedUntil);
    while (t < stop) {
      if (t >= fineFrom && this.wholeMinute(t, stop, simulatedUntil, into)) {
        t += COARSE_BUCKET_MS;
      } else if (t >= fineFrom) {
        const second = Math.floor(t / FINE_BUCKET_MS);
        const secondStart = second * FINE_BUCKET_MS;
        const covered = Math.min(secondStart + FINE_BUCKET_MS, simulatedUntil);
        const segmentEnd = Math.min(stop, covered);
        const slot = this.fine.slot(second, false);
        if (slot >= 0) this.fine.addTo(into, slot, (segmentEnd - t) / (covered - secondStart));
        t = segmentEnd;
      } else {
        const minute = Math.floor(t / COARSE_BUCKET_MS);
        const minuteStart = minute * COARSE_BUCKET_MS;
        const segmentEnd = Math.min(stop, minuteStart + COARSE_BUCKET_MS, fineFrom);
        const slot = this.coarse.slot(minute, false);
        // Minutes this old are complete, so proration is over the whole minute.
        if (slot >= 0) this.coarse.addTo(into, slot, (segmentEnd - t) / COARSE_BUCKET_MS);
        t = segmentEnd;
      }
    }
  }

  /**
   * Adds the minute starting at `t` from the 1-minute ring, when the window holds all of it and
   * it is fully simulated: the same traffic as its 60 one-second buckets (every record goes to
   * both rings), read once instead of 60 times, so a call over a long window (a stage's pooled
   * counts, read from the stage's start on every look) costs minutes, not seconds. Requests,
   * errors and latency counts are whole numbers, so the sums are the same; cost may differ in
   * its last bit (another order of the same float additions).
   */
  private wholeMinute(t: number, stop: number, simulatedUntil: number, into: Aggregate): boolean {
    if (t % COARSE_BUCKET_MS !== 0 || t + COARSE_BUCKET_MS > Math.min(stop, simulatedUntil)) return false;
    const slot = this.coarse.slot(t / COARSE_BUCKET_MS, false);
    if (slot < 0) return false;
    this.coarse.addTo(into, slot, 1);
    return true;
  }

  retainedBuckets(simulatedUntil: number): number {
    const lastSecond = Math.floor((simulatedUntil - 1) / FINE_BUCKET_MS);
    const lastMinute = Math.floor((simulatedUntil - 1) / COARSE_BUCKET_MS);
    return (
      this.fine.retained(lastSecond - FINE_BUCKETS + 1) +
      this.coarse.retained(lastMinute - COARSE_BUCKETS + 1)
    );
  }
}
