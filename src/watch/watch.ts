// watch: how long until something expires — the live TLS certificate of the D365 URL (and of AD FS
// when configured) and the keys on the Dynamics service principal. A scheduled workflow runs it and
// fails or opens an issue when fewer days than the threshold are left.
import { daysText } from '../days.js';
import type { Config } from '../config/schema.js';
import { DYNAMICS_APP_ID } from '../config/schema.js';
import { summarizeKey, type KeySummary } from '../graph/key-credentials.js';
import type { EntraServices } from '../graph/entra-service.js';
import { readLiveCertificate, type LiveCertificate } from './live-certificate.js';
import { ewsCountdownLine, ewsShutdownReason } from '../phases/exchange/countdown.js';

export interface WatchReport {
  ok: boolean;
  checkedAt: string;
  minDays: number;
  certificates: LiveCertificate[];
  /** Keys on the Dynamics service principal; null when Entra was not checked. */
  keys: KeySummary[] | null;
  /** Fewest days left among the valid keys and the live certificates. */
  daysRemaining: number | null;
  /** Days left until EWS in Exchange Online ends (2027-04-01) and the tenant's EWS state, in one line. */
  ews: string;
  problems: string[];
}

export interface WatchOptions {
  minDays: number;
  urls: string[];
  /** The Entra service; undefined skips the key check (--skip-entra). */
  entra?: EntraServices;
  ca?: string;
  now: Date;
  /** Reads the tenant's EWS state (configure-exchange's reads); undefined: not read (watch --exchange reads it). */
  ewsState?: () => Promise<{ line: string; blocked?: boolean }>;
}

/** The URLs watched by default: the organization URL and the AD FS URL when the config has one. */
export function defaultWatchUrls(config: Config): string[] {
  return [config.deployment.url, ...(config.adfs?.url ? [config.adfs.url] : [])];
}

export async function watch(options: WatchOptions): Promise<WatchReport> {
  const problems: string[] = [];
  const certificates = await Promise.all(
    options.urls.map((url) =>
      readLiveCertificate(url, { now: options.now, ...(options.ca ? { ca: options.ca } : {}) }),
    ),
  );
  const days: number[] = [];
  for (const cert of certificates) {
    if (!cert.ok) problems.push(`${cert.url}: ${cert.error}`);
    else {
      days.push(cert.daysRemaining!);
      if (cert.daysRemaining! < options.minDays) {
        problems.push(
          `${cert.url}: the TLS certificate expires in ${daysText(cert.daysRemaining!)} (${cert.notAfter}): renew it and run the renewal pipeline`,
        );
      }
    }
  }
  let keys: KeySummary[] | null = null;
  if (options.entra) {
    try {
      const sp = await options.entra.graph.findServicePrincipal(DYNAMICS_APP_ID);
      if (!sp) throw new Error(`the Dynamics CRM service principal (${DYNAMICS_APP_ID}) does not exist in this tenant`);
      keys = (await options.entra.graph.getKeyCredentials(sp.id)).map((key) => summarizeKey(key, options.now));
      const valid = keys.filter((k) => k.usage === 'Verify' && k.state === 'valid');
      if (!valid.length)
        problems.push(
          'no valid key credential on the Dynamics CRM service principal: server-side sync cannot sign in; run the renewal now',
        );
      else {
        const longest = Math.max(...valid.map((k) => k.daysLeft ?? 0));
        days.push(longest);
        if (longest < options.minDays) {
          problems.push(
            `the newest key on the Dynamics CRM service principal expires in ${daysText(longest)}: run the renewal with the new certificate`,
          );
        }
      }
    } catch (error) {
      problems.push(`Entra ID: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  let ews = ewsCountdownLine(options.now, { notRead: 'watch --exchange reads it' });
  if (options.ewsState) {
    const state = await options.ewsState();
    ews = state.line;
    if (state.blocked) problems.push(`Exchange Online: ${state.line}; run configure-exchange`);
  }
  const shutdown = ewsShutdownReason('configure-mailboxes', options.now);
  if (shutdown) problems.push(`Exchange Online: ${shutdown}`);
  return {
    ok: problems.length === 0,
    checkedAt: options.now.toISOString(),
    minDays: options.minDays,
    certificates,
    keys,
    daysRemaining: days.length ? Math.min(...days) : null,
    ews,
    problems,
  };
}

/** The report as table rows (what, days left, details): one shape for the terminal and the job summary. */
export function watchRows(report: WatchReport): string[][] {
  return [
    ...report.certificates.map((c) => [
      `TLS ${c.url}`,
      c.ok ? String(c.daysRemaining) : '—',
      c.notAfter ?? c.error ?? '',
    ]),
    ...(report.keys ?? []).map((k) => [
      `key ${k.thumbprint ?? k.keyId} (${k.addedBy})`,
      k.daysLeft === null ? '—' : String(k.daysLeft),
      `${k.state}, ends ${k.end ?? '—'}`,
    ]),
  ];
}
