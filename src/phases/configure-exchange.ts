// configure-exchange: the Exchange Online side of server-side synchronization. Since 2026-10-01 Exchange Online lets
// only the apps on the tenant's EwsAllowedAppIDs list use EWS (when EwsEnabled is True), and since 2025-04-01 EWS works
// only when both the organization and the mailbox allow it ("Control access to EWS in Exchange"; Set-OrganizationConfig
// and Set-CASMailbox help). This phase reads all of it and changes only the difference, in one PowerShell process
// (Set-D365ExoSyncExchangeConfiguration, ExchangeOnlineManagement 3.1.0+ on the runner):
//   - the Dynamics app id (exchange.ews.appIds) added to EwsAllowedAppIDs, every other entry kept;
//   - EwsEnabled set True only with exchange.ews.enableOrganization (plan shows it; apply refuses without it);
//   - the user-agent policy and the mailboxes' own EwsEnabled reported, changed only when configured.
// Sign-in is app-only: the TypeScript side gets an Exchange Online token with the same Entra app and credential as the
// Graph phases and hands it to PowerShell through the child's environment only.
//
// Inputs: mailboxes (addresses; default: the mailbox phase's selection). Outputs: ews-effective-after (changes take
// up to 24 hours: the time after which Test & Enable is worth running), ews-state (the countdown line).
import type { Phase, PhaseContext, Step } from './phase.js';
import { PowerShellPhaseError, type PhaseScriptResult } from '../powershell/types.js';
import type { WindowsServices } from './windows/powershell-service.js';
import { requireCrm, requireExchange, requireWindows } from './phase-services.js';
import { planError, runWarnings, type RunDetails } from './windows/step-results.js';
import { moduleSteps } from './windows/step-catalogue.js';
import { powerShellPhase, runModule, type PowerShellPhaseDefinition } from './windows/powershell-phase.js';
import type { ExchangeServices } from '../graph/exchange-service.js';
import { ewsCountdownLine, organizationAllows, tenantEwsState } from './exchange/countdown.js';
import { selectMailboxes } from './mailboxes/select.js';
import { mailboxSettings } from './mailboxes/settings.js';

const PHASE_ID = 'configure-exchange';
const TARGET = 'Exchange Online';

export const EXCHANGE_SPEC = moduleSteps(PHASE_ID);

export interface PreparedExchange {
  windows: WindowsServices;
  exchange: ExchangeServices;
  organization: string;
  mailboxes: string[];
  mailboxSource: string;
}

const ADDRESS = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

/** Which mailboxes: the mailboxes input, the configured addresses, or the mailbox phase's selection in D365. */
async function mailboxAddresses(ctx: PhaseContext): Promise<{ addresses: string[]; source: string }> {
  const raw = ctx.inputs.mailboxes?.trim();
  if (raw) {
    const addresses = raw
      .split(/[,;\s]+/)
      .map((a) => a.trim())
      .filter(Boolean);
    const bad = addresses.filter((a) => !ADDRESS.test(a));
    if (bad.length) {
      throw new Error(
        `${PHASE_ID}: input mailboxes has ${bad.map((b) => `"${b}"`).join(', ')}, which is not an email address: give addresses separated by commas; nothing was changed`,
      );
    }
    return { addresses, source: 'the mailboxes input' };
  }
  const settings = mailboxSettings(ctx.config);
  if (ctx.config.email.mailboxes.select === 'addresses') {
    return { addresses: [...(ctx.config.email.mailboxes.addresses ?? [])], source: 'email.mailboxes.addresses' };
  }
  try {
    const { client } = requireCrm(ctx, PHASE_ID);
    const selection = await selectMailboxes(client, settings);
    return {
      addresses: selection.records.map((r) => r.address).filter(Boolean),
      source: `the D365 mailboxes (email.mailboxes.select: ${ctx.config.email.mailboxes.select})`,
    };
  } catch (error) {
    throw new Error(
      `${PHASE_ID} reads which mailboxes are synchronized from D365 (email.mailboxes.select: ${ctx.config.email.mailboxes.select}), ` +
        `and that failed: ${error instanceof Error ? error.message : String(error)}. Run it where the D365 Web API is reachable, ` +
        'or pass the addresses as the mailboxes input (CLI: --set mailboxes=a@contoso.com,b@contoso.com); nothing was changed',
      { cause: error },
    );
  }
}

export async function prepareExchange(ctx: PhaseContext): Promise<PreparedExchange> {
  const exchange = requireExchange(ctx, PHASE_ID);
  if (!exchange.organization) {
    throw new Error(
      `${PHASE_ID} signs in to Exchange Online app-only, which needs the tenant's .onmicrosoft.com domain: set exchange.organization ` +
        '(e.g. contoso.onmicrosoft.com), or use it as tenant.domain; nothing was changed',
    );
  }
  const windows = requireWindows(ctx, PHASE_ID);
  const { addresses, source } = await mailboxAddresses(ctx);
  return { windows, exchange, organization: exchange.organization, mailboxes: addresses, mailboxSource: source };
}

function parameters(ctx: PhaseContext, p: PreparedExchange): Record<string, unknown> {
  const ews = ctx.config.exchange.ews;
  return {
    organization: p.organization,
    ...(p.exchange.environmentName ? { exchangeEnvironmentName: p.exchange.environmentName } : {}),
    appIds: ews.appIds,
    enableOrganization: ews.enableOrganization,
    userAgents: ews.userAgents,
    mailboxes: p.mailboxes,
    enableMailboxes: ews.enableMailboxes,
  };
}

function details(ctx: PhaseContext, p: PreparedExchange, result?: PhaseScriptResult): RunDetails {
  return {
    server: TARGET,
    skipNotes: {},
    warnings: [
      ...runWarnings(p.windows.computerName, result).filter((w) => !w.startsWith('the phase ran for')),
      ...(p.mailboxes.length
        ? []
        : [`no synchronized mailboxes in ${p.mailboxSource}: the mailboxes' own EwsEnabled is not checked`]),
    ],
  };
}

/** Signs in (the token goes through the child's environment only): the module function's parameters and token. */
async function moduleCall(ctx: PhaseContext, p: PreparedExchange) {
  let token: string;
  try {
    token = await p.exchange.accessToken();
  } catch (error) {
    throw new Error(
      `signing in to Exchange Online as ${p.exchange.authDescription} failed: ${error instanceof Error ? error.message : String(error)}. ` +
        `The app needs the application permission Exchange.ManageAsApp of Office 365 Exchange Online (admin consent) and an Exchange role (see docs/phases.md)`,
      { cause: error },
    );
  }
  return { parameters: parameters(ctx, p), secrets: { AccessToken: token } };
}

/** Signs in and runs the PowerShell function in plan or apply mode. */
export function runExchange(
  ctx: PhaseContext,
  p: PreparedExchange,
  mode: 'plan' | 'apply',
): Promise<PhaseScriptResult> {
  return runModule({ spec: EXCHANGE_SPEC, call: moduleCall }, ctx, p, mode);
}

/** The countdown line from a run's result (the read-organization and mailboxes steps). */
export function countdownFromResult(ctx: PhaseContext, result: PhaseScriptResult | undefined, why?: string): string {
  const read = result?.steps.find((s) => s.id === 'read-organization');
  const found = tenantEwsState(read?.after);
  if (!found) return ewsCountdownLine(ctx.now, { notRead: why ?? 'configure-exchange did not read it' });
  // After an apply, the state the changed steps left (each was read back by the module).
  const changed = (id: string) => result?.steps.find((s) => s.id === id && s.status === 'changed');
  const ids = changed('allowed-app-ids')?.after;
  const state = {
    ...found,
    ...(changed('ews-enabled') ? { ewsEnabled: true } : {}),
    ...(Array.isArray(ids) ? { ewsAllowedAppIds: ids.map(String) } : {}),
  };
  const mailboxes = result?.steps.find((s) => s.id === 'mailboxes');
  const disabled = (mailboxes?.before as { ewsDisabled?: unknown } | null)?.ewsDisabled;
  const blocked =
    mailboxes && mailboxes.status !== 'skipped'
      ? mailboxes.status === 'changed'
        ? 0
        : Array.isArray(disabled)
          ? disabled.length
          : 0
      : Array.isArray(disabled)
        ? disabled.length
        : undefined;
  return ewsCountdownLine(ctx.now, {
    state,
    appIds: ctx.config.exchange.ews.appIds,
    ...(blocked !== undefined ? { blockedMailboxes: blocked } : {}),
  });
}

/**
 * The plan when the tenant cannot be read from here (no module, no sign-in, no organization, D365 unreachable): every
 * read and what would be ensured, from the config alone, with the reason first. Nothing is guessed about the tenant.
 */
export function offlinePlan(ctx: PhaseContext, reason: string): Step[] {
  const ews = ctx.config.exchange.ews;
  const organization = ctx.services.exchange?.organization ?? ctx.config.exchange.organization ?? null;
  const mailboxSource =
    ctx.inputs.mailboxes?.trim() || ctx.config.email.mailboxes.select === 'addresses'
      ? 'the listed addresses'
      : `the D365 mailboxes (email.mailboxes.select: ${ctx.config.email.mailboxes.select})`;
  const row = (id: string, action: Step['action'], after: unknown, note?: string): Step => ({
    id: `${EXCHANGE_SPEC.prefix}.${id}`,
    title: EXCHANGE_SPEC.steps.find((s) => s.id === id)!.title,
    target: TARGET,
    action,
    before: null,
    after,
    ...(note ? { note } : {}),
  });
  return [
    row(
      'exchange-module',
      'check',
      { module: 'ExchangeOnlineManagement', minimumVersion: '3.1.0' },
      `not read from here: ${reason}`,
    ),
    row('sign-in', 'check', {
      organization,
      as: ctx.services.exchange?.authDescription ?? null,
      permission: 'Exchange.ManageAsApp (Office 365 Exchange Online)',
    }),
    row('read-organization', 'check', {
      cmdlet: 'Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy',
      reads: ['EwsEnabled', 'EwsAllowedAppIDs', 'EwsApplicationAccessPolicy', 'EwsAllowList', 'EwsBlockList'],
    }),
    row('read-mailboxes', 'check', {
      cmdlet: 'Get-CASMailbox -Filter "EwsEnabled -eq 0" -ResultSize Unlimited',
      mailboxes: mailboxSource,
    }),
    row(
      'ews-enabled',
      'check',
      true,
      ews.enableOrganization
        ? 'set to True when unset or False (exchange.ews.enableOrganization: true)'
        : 'apply refuses when it is unset or False (exchange.ews.enableOrganization: false)',
    ),
    row(
      'allowed-app-ids',
      'check',
      ews.appIds,
      'added when missing; every other entry kept; an empty list is left empty',
    ),
    row(
      'user-agent-policy',
      'check',
      { userAgents: ews.userAgents },
      ews.userAgents.length
        ? 'let through when the policy blocks them'
        : 'reported only (exchange.ews.userAgents is empty)',
    ),
    row(
      'mailboxes',
      'check',
      { ewsEnabled: true },
      ews.enableMailboxes
        ? 'set True where False (exchange.ews.enableMailboxes: true)'
        : 'reported only (exchange.ews.enableMailboxes: false)',
    ),
  ];
}

/** The countdown line with the tenant's EWS state, read-only (watch --exchange); blocked when D365 cannot pass. */
export async function readEwsState(ctx: PhaseContext): Promise<{ line: string; blocked?: boolean }> {
  let result: PhaseScriptResult;
  try {
    result = await runExchange(ctx, await prepareExchange(ctx), 'plan');
  } catch (error) {
    return { line: countdownFromResult(ctx, undefined, error instanceof Error ? error.message : String(error)) };
  }
  const state = tenantEwsState(result.steps.find((s) => s.id === 'read-organization')?.after);
  return {
    line: countdownFromResult(ctx, result),
    ...(state ? { blocked: !organizationAllows(state, ctx.config.exchange.ews.appIds) } : {}),
  };
}

const definition: PowerShellPhaseDefinition<PreparedExchange> = {
  spec: EXCHANGE_SPEC,
  prepare: prepareExchange,
  target: () => TARGET,
  call: moduleCall,
  details,
  planWithout(ctx, error, started) {
    // A failure inside the module after sign-in (a refused read) is a real answer of the tenant: the plan stops there.
    if (
      started &&
      error instanceof PowerShellPhaseError &&
      !['exchange-module', 'sign-in'].includes(error.detail.step)
    ) {
      return undefined;
    }
    const reason = started
      ? planError(EXCHANGE_SPEC, error, TARGET).message
      : error instanceof Error
        ? error.message
        : String(error);
    return offlinePlan(ctx, reason);
  },
  applied(ctx, _p, result, results) {
    const line = countdownFromResult(ctx, result);
    const first = results[0];
    if (first) first.warnings = [line, ...(first.warnings ?? [])];
    const effectiveAfter = typeof result.evidence?.effectiveAfter === 'string' ? result.evidence.effectiveAfter : '';
    return { results, outputs: { 'ews-effective-after': effectiveAfter, 'ews-state': line } };
  },
};

export const configureExchangePhase: Phase = {
  id: PHASE_ID,
  title: "Allow the Dynamics app through the tenant's EWS controls (Exchange Online)",
  runsOn:
    'a runner with the ExchangeOnlineManagement module 3.1.0+ (and the D365 Web API, unless the mailboxes are listed)',
  changes:
    "Exchange Online: the Dynamics app id in EwsAllowedAppIDs; EwsEnabled, the user-agent lists and the mailboxes' EwsEnabled only when configured",
  writes: { ews: true },
  // Exchange Online's token comes from the same Entra app and sign-in as the Graph phases.
  signsInToEntra: true,
  inputs: [
    {
      name: 'mailboxes',
      description:
        "Addresses of the synchronized mailboxes to check, separated by commas (default: email.mailboxes.addresses, or the mailbox phase's selection read from D365)",
    },
  ],
  outputs: [
    {
      name: 'ews-effective-after',
      description:
        'When anything changed: the UTC time after which the change is in effect (Exchange Online takes up to 24 hours) and Test & Enable is worth running',
    },
    { name: 'ews-state', description: 'Days left until 2027-04-01 and the tenant EWS state, in one line' },
  ],
  ...powerShellPhase(definition),
};
