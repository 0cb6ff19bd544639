// Which federated credentials the app of tenant.auth.clientId needs for a workflow: GitHub issues each
// job an OIDC token whose subject depends on the job (repo:OWNER/REPO:environment:NAME for a job with an
// environment, repo:OWNER/REPO:ref:refs/heads/BRANCH otherwise, repo:OWNER/REPO:pull_request for pull
// requests), and Entra ID accepts a token only when a credential matches issuer, subject and audience
// exactly. Sources: GitHub Docs "About security hardening with OpenID Connect" (subject claims) and
// Microsoft Entra "Configure an app to trust an external identity provider" (the credential and its
// Graph request, POST /applications/{id}/federatedIdentityCredentials); Azure DevOps "Workload identity
// federation" service connections (issuer https://vstoken.dev.azure.com/<organization id>, subject
// sc://<organization>/<project>/<service connection>).
import { parse } from 'yaml';
import { FEDERATED_AUDIENCE } from '../config/schema.js';
import { packagedSteps } from './steps.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export interface FederatedSubject {
  /** The credential's name: letters, digits, - and _ (at most 120 characters). */
  name: string;
  issuer: string;
  subject: string;
  audience: string;
  /** The jobs that sign in with it. */
  jobs: string[];
}

type Workflow = {
  on?: unknown;
  jobs?: Record<string, { environment?: string | { name?: string }; steps?: { uses?: string }[] }>;
};

/** Jobs that sign in to Entra ID: they run one of our steps that does, or azure/login. */
function signsIn(job: NonNullable<Workflow['jobs']>[string]): boolean {
  const ours = new Set(
    packagedSteps()
      .filter((s) => s.signsInToEntra)
      .map((s) => s.id),
  );
  return (job.steps ?? []).some((step) => {
    const uses = step.uses ?? '';
    if (/^azure\/login@/i.test(uses)) return true;
    const match = /\/actions\/([a-z-]+)@/.exec(uses);
    return match ? ours.has(match[1]!) : false;
  });
}

function credentialName(text: string): string {
  return `d365-exo-sync-${text}`.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 120);
}

function triggers(on: unknown): string[] {
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  return on && typeof on === 'object' ? Object.keys(on) : [];
}

/** Every subject a GitHub workflow signs in with, for `repository` (OWNER/REPO) run from `branch`. */
export function githubSubjects(
  workflowText: string,
  repository: string,
  branch: string,
  audience: string,
  issuer = GITHUB_ISSUER,
): FederatedSubject[] {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository))
    throw new Error(`--repository ${repository}: give OWNER/REPO`);
  const workflow = parse(workflowText) as Workflow;
  const subjects = new Map<string, FederatedSubject>();
  const add = (subject: string, label: string, job: string) => {
    const known = subjects.get(subject);
    if (known) known.jobs.push(job);
    else subjects.set(subject, { name: credentialName(label), issuer, subject, audience, jobs: [job] });
  };
  const pullRequests = triggers(workflow.on).some((t) => t === 'pull_request' || t === 'pull_request_target');
  for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
    if (!signsIn(job)) continue;
    const environment = typeof job.environment === 'string' ? job.environment : job.environment?.name;
    if (environment) add(`repo:${repository}:environment:${environment}`, `environment-${environment}`, id);
    else {
      add(`repo:${repository}:ref:refs/heads/${branch}`, `branch-${branch}`, id);
      if (pullRequests) add(`repo:${repository}:pull_request`, 'pull-request', id);
    }
  }
  return [...subjects.values()];
}

/** The subject of an Azure DevOps workload identity service connection ("ORG/PROJECT/CONNECTION"). */
export function azureDevOpsSubject(connection: string, organizationId: string): FederatedSubject {
  const parts = connection.split('/');
  if (parts.length !== 3 || parts.some((p) => !p.trim()))
    throw new Error(`--azure-devops ${connection}: give ORGANIZATION/PROJECT/SERVICE-CONNECTION-NAME`);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(organizationId))
    throw new Error(
      `--organization-id ${organizationId}: give the organization's id (a GUID; the service connection's "Issuer" shows it)`,
    );
  return {
    name: credentialName(`azure-devops-${parts[2]}`),
    issuer: `https://vstoken.dev.azure.com/${organizationId.toLowerCase()}`,
    subject: `sc://${parts.join('/')}`,
    // Azure DevOps always issues its tokens for this audience.
    audience: FEDERATED_AUDIENCE,
    jobs: ['every task with azureSubscription'],
  };
}

/** The body of POST {graph}/v1.0/applications(appId='{clientId}')/federatedIdentityCredentials. */
export function credentialBody(subject: FederatedSubject): Record<string, unknown> {
  return {
    name: subject.name,
    issuer: subject.issuer,
    subject: subject.subject,
    audiences: [subject.audience],
    description: `d365-exo-sync: ${subject.jobs.join(', ')}`.slice(0, 600),
  };
}

/** The Graph request and the az command that add one credential to the app. */
export function addCommands(
  subject: FederatedSubject,
  clientId: string,
  graphUrl: string,
): { graph: string; az: string } {
  const body = JSON.stringify(credentialBody(subject));
  return {
    graph: `POST ${graphUrl.replace(/\/$/, '')}/v1.0/applications(appId='${clientId}')/federatedIdentityCredentials\nContent-Type: application/json\n\n${body}`,
    az: `az ad app federated-credential create --id ${clientId} --parameters '${body.replace(/'/g, "'\\''")}'`,
  };
}
