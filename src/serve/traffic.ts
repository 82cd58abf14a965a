/**
 * Traffic policies for one served model name: a **canary** (a second version taking a weighted,
 * sticky share of requests) and a **shadow** (a version scored off the response path, logged,
 * never returned), plus the **guard** that rolls a canary back when its error rate or p99 latency
 * breaches a threshold over a window of its recent requests.
 *
 * Stickiness: a request's route key (the X-Keel-Route-Key header, e.g. a customer id; else its
 * request id) is hashed (FNV-1a, mixed) to a point in [0, 1); points below the canary's weight go to the
 * canary. The same key always lands on the same version while the weight stays the same.
 */
import type { HostedModel } from './model-host.js';

export interface Canary {
  entry: HostedModel;
  /** Share of traffic in [0, 1]. */
  weight: number;
  guard: CanaryGuard | null;
}

/** A point in [0, 1) from a string, stable across processes (FNV-1a then murmur3's mix, 32 bits). */
export function routePoint(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3's finalizer: similar keys (c1, c2, …) land far apart
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

export interface GuardOptions {
  /** Roll back when more than this share of the window's requests failed (default 0.05). */
  maxErrorRate?: number;
  /** Roll back when the window's p99 scoring latency exceeds this many ms (default: no latency rule). */
  maxP99Ms?: number;
  /** The window: the canary's last N requests (default 200). */
  window?: number;
  /** Judge only once the window holds this many requests (default 50). */
  minRequests?: number;
}

export interface GuardVerdict {
  errorRate: number;
  p99Ms: number;
  requests: number;
  reason: string;
}

/**
 * The canary's recent outcomes in a ring buffer; `record` returns a verdict once (the first time a
 * rule is breached), after which the guard is tripped and records nothing more.
 */
export class CanaryGuard {
  readonly maxErrorRate: number;
  readonly maxP99Ms: number | null;
  readonly window: number;
  readonly minRequests: number;
  private readonly latency: Float64Array;
  private readonly failed: Uint8Array;
  private n = 0;
  private next = 0;
  private errors = 0;
  private sinceCheck = 0;
  tripped: GuardVerdict | null = null;

  constructor(options: GuardOptions = {}) {
    this.maxErrorRate = options.maxErrorRate ?? 0.05;
    this.maxP99Ms = options.maxP99Ms ?? null;
    this.window = Math.max(1, options.window ?? 200);
    this.minRequests = Math.min(this.window, Math.max(1, options.minRequests ?? 50));
    this.latency = new Float64Array(this.window);
    this.failed = new Uint8Array(this.window);
  }

  record(ok: boolean, latencyMs: number): GuardVerdict | null {
    if (this.tripped) return null;
    if (this.n === this.window) this.errors -= this.failed[this.next];
    else this.n++;
    this.failed[this.next] = ok ? 0 : 1;
    this.latency[this.next] = latencyMs;
    this.errors += ok ? 0 : 1;
    this.next = (this.next + 1) % this.window;
    if (this.n < this.minRequests) return null;
    const errorRate = this.errors / this.n;
    // the error rule is cheap: every request; the p99 rule sorts the window: every 16th request
    let p99 = Number.NaN;
    if (this.maxP99Ms !== null && (++this.sinceCheck >= 16 || !ok)) {
      this.sinceCheck = 0;
      p99 = this.p99();
    }
    let reason = '';
    if (errorRate > this.maxErrorRate)
      reason = `error rate ${(errorRate * 100).toFixed(1)}% over the last ${this.n} requests exceeds ${(this.maxErrorRate * 100).toFixed(1)}%`;
    else if (this.maxP99Ms !== null && p99 > this.maxP99Ms)
      reason = `p99 latency ${p99.toFixed(2)} ms over the last ${this.n} requests exceeds ${this.maxP99Ms} ms`;
    if (!reason) return null;
    this.tripped = {
      errorRate,
      p99Ms: Number.isNaN(p99) ? this.p99() : p99,
      requests: this.n,
      reason,
    };
    return this.tripped;
  }

  p99(): number {
    if (this.n === 0) return 0;
    const a = Float64Array.from(this.latency.subarray(0, this.n)).sort();
    return a[Math.min(a.length - 1, Math.ceil(0.99 * a.length) - 1)];
  }
}
