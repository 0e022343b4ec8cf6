import type { GatewayError } from '../core/errors.js';
import type { BreakerConfig } from '../config/schema.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { LatencyTracker } from './latency-tracker.js';
import { RateWindow } from './rate-window.js';

/** The settings a state is built from; a reload that changes them starts the state afresh. */
export interface StateSettings {
  readonly breaker: BreakerConfig;
  readonly latencyDecayMs: number;
  readonly rpm: number | null;
  readonly tpm: number | null;
  readonly rateLimitCooldownMs: number;
}

/** One call sent to a deployment, from sending to its last byte. */
export interface AttemptTicket {
  readonly state: DeploymentState;
  readonly startedAt: number;
  readonly probe: boolean;
  /** A streamed answer: its first byte marks the first token, and the rest gives the per-token time. */
  readonly streamed: boolean;
  firstByteAt: number;
  /** Prompt tokens this attempt still counts in its state's `prefillOutstanding` (0 once released). */
  prefill: number;
  done: boolean;
}

/**
 * What the router knows about a deployment from its traffic. Kept by name in a registry that
 * survives config reloads, so a reload neither forgets an open circuit nor the requests in flight.
 */
export class DeploymentState {
  inFlight = 0;
  /**
   * Prompt tokens sent and not yet answered: added when an attempt is sent, released at its first
   * byte (the server has prefilled the prompt) or when it ends without one. A request count hides
   * that one server was just given a 6k-token prompt; this shows the prefill queued there.
   */
  prefillOutstanding = 0;
  /** Epoch ms until which the deployment gets nothing (after an upstream 429). */
  cooldownUntil = 0;
  readonly breaker: CircuitBreaker;
  readonly latency: LatencyTracker;
  readonly requestWindow: RateWindow | null;
  readonly tokenWindow: RateWindow | null;

  constructor(readonly settings: StateSettings) {
    this.breaker = new CircuitBreaker(settings.breaker);
    this.latency = new LatencyTracker(settings.latencyDecayMs);
    this.requestWindow = settings.rpm === null ? null : new RateWindow(settings.rpm);
    this.tokenWindow = settings.tpm === null ? null : new RateWindow(settings.tpm);
  }

  /**
   * An attempt is sent. `tokens` (prompt and expected output) counts toward the token rate limit;
   * `promptTokens` (its prompt part) toward the prefill outstanding until the first byte.
   */
  begin(now: number, tokens: number, streamed: boolean, promptTokens = 0): AttemptTicket {
    this.inFlight++;
    this.requestWindow?.add(now, 1);
    this.tokenWindow?.add(now, tokens);
    const prefill = promptTokens > 0 ? promptTokens : 0;
    this.prefillOutstanding += prefill;
    return { state: this, startedAt: now, probe: this.breaker.onSend(now), streamed, firstByteAt: 0, prefill, done: false };
  }

  /** The first byte of the attempt's answer arrived: its prompt is prefilled. */
  firstByte(ticket: AttemptTicket, now: number): void {
    ticket.firstByteAt = now;
    this.releasePrefill(ticket);
  }

  /** Releases the attempt's prompt tokens once; the sum never goes below zero. */
  private releasePrefill(ticket: AttemptTicket): void {
    if (ticket.prefill === 0) return;
    this.prefillOutstanding = Math.max(0, this.prefillOutstanding - ticket.prefill);
    ticket.prefill = 0;
  }

  /**
   * Ends an attempt once. Upstream faults count against the circuit; a 429 cools the deployment
   * down for as long as the upstream asked; the upstream's refusal of a bad request (other 4xx)
   * says the upstream is well; a client that left says nothing either way.
   */
  end(ticket: AttemptTicket, error: GatewayError | null, now: number, outputTokens: number): void {
    if (ticket.done) return;
    ticket.done = true;
    this.inFlight--;
    this.releasePrefill(ticket);
    if (error === null) {
      this.breaker.onSuccess(now, ticket.probe);
      if (!ticket.streamed) {
        // A whole answer only tells its total time; the per-token record stays as streams left it.
        this.latency.record(now, (ticket.firstByteAt || now) - ticket.startedAt, null);
        return;
      }
      const firstByte = ticket.firstByteAt || now;
      const perToken = outputTokens > 1 && firstByte < now ? (now - firstByte) / (outputTokens - 1) : null;
      this.latency.record(now, firstByte - ticket.startedAt, perToken);
      return;
    }
    switch (error.code) {
      case 'client_closed_request':
        this.breaker.onAbandon(ticket.probe);
        return;
      case 'upstream_client_error':
        if (error.status === 429) {
          this.cooldownUntil = Math.max(this.cooldownUntil, now + (retryAfterMs(error) ?? this.settings.rateLimitCooldownMs));
          this.breaker.onAbandon(ticket.probe);
        } else {
          this.breaker.onSuccess(now, ticket.probe);
        }
        return;
      case 'upstream_unreachable':
      case 'upstream_error':
      case 'upstream_timeout':
      case 'upstream_bad_response':
        this.breaker.onFailure(now, ticket.probe);
        return;
      default:
        this.breaker.onAbandon(ticket.probe);
    }
  }
}

/** The wait an upstream asked for, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(error: GatewayError): number | null {
  const headers = error.headers;
  if (headers === undefined) return null;
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const after = headers['retry-after'];
  if (after === undefined) return null;
  if (/^\d+(\.\d+)?$/.test(after.trim())) return Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** States by deployment name, kept across reloads. */
export class DeploymentStates {
  private readonly states = new Map<string, DeploymentState>();

  stateFor(name: string, settings: StateSettings): DeploymentState {
    const existing = this.states.get(name);
    if (existing !== undefined && sameSettings(existing.settings, settings)) return existing;
    const fresh = new DeploymentState(settings);
    this.states.set(name, fresh);
    return fresh;
  }
}

function sameSettings(a: StateSettings, b: StateSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
