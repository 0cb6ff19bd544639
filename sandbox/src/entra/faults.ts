// Fault injection for the Entra/Graph emulator: a rule names an endpoint, what goes wrong and how many
// times. By default the fault replaces the handling (the request never reaches the state); with
// `afterHandling` the request is handled first (the change is made) and the answer is what fails —
// the case where a client cannot know whether its PATCH landed.

/** The endpoints the emulator tells apart, for fault rules and the request log. */
export type EntraEndpoint =
  | 'openid-configuration'
  | 'jwks'
  | 'token'
  | 'github-oidc'
  | 'azure-devops-oidc'
  | 'organization'
  | 'app-management-policy'
  | 'sp-list'
  | 'sp-get'
  | 'sp-patch'
  | 'login-other'
  | 'graph-other';

export type Fault =
  /** An HTTP error answer, e.g. 429 with Retry-After (seconds) or 503. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** The connection is dropped without an answer (ECONNRESET on the client). */
  | { kind: 'reset' }
  /** The answer comes after delayMs (beyond the client's timeout to test timeouts). */
  | { kind: 'slow'; delayMs: number }
  /** A 200 whose body is cut short: not JSON. */
  | { kind: 'malformed' };

export type FaultRule = Fault & {
  endpoint: EntraEndpoint | '*';
  /** How many matching requests it hits (default 1). */
  times?: number;
  /** Handle the request first, then fail the answer. */
  afterHandling?: boolean;
};

export interface ActiveFault {
  readonly rule: FaultRule;
  /** How many more requests it will hit. */
  remaining: number;
  /** How many it has hit. */
  hits: number;
}

export class FaultInjector {
  private readonly rules: ActiveFault[] = [];

  /** Adds a rule; rules are tried in the order added. */
  add(rule: FaultRule): ActiveFault {
    const active: ActiveFault = { rule, remaining: rule.times ?? 1, hits: 0 };
    this.rules.push(active);
    return active;
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** The rules with hits left. */
  get pending(): ActiveFault[] {
    return this.rules.filter((r) => r.remaining > 0);
  }

  /** Takes the first rule that matches this endpoint, counting the hit. */
  take(endpoint: EntraEndpoint): FaultRule | undefined {
    const active = this.rules.find((r) => r.remaining > 0 && (r.rule.endpoint === '*' || r.rule.endpoint === endpoint));
    if (!active) return undefined;
    active.remaining--;
    active.hits++;
    return active.rule;
  }
}

export function describeFault(rule: FaultRule): string {
  const when = rule.afterHandling ? ' after handling' : '';
  switch (rule.kind) {
    case 'status':
      return `status ${rule.status}${rule.retryAfterSeconds !== undefined ? ` retry-after ${rule.retryAfterSeconds}` : ''}${when}`;
    case 'reset':
      return `reset${when}`;
    case 'slow':
      return `slow ${rule.delayMs} ms${when}`;
    case 'malformed':
      return `malformed${when}`;
  }
}
