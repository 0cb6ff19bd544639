// d365-exo-sync federated-credentials — the federated credentials the app of tenant.auth.clientId needs:
// every OIDC subject a GitHub workflow signs in with (or an Azure DevOps service connection's), each with
// the Graph request and the az command that adds it, created with the audience the toolkit asks for.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveCloudEndpoints } from '../../graph/endpoints.js';
import { federatedAudience } from '../../graph/credentials.js';
import {
  addCommands,
  azureDevOpsSubject,
  credentialBody,
  GITHUB_ISSUER,
  githubSubjects,
  type FederatedSubject,
} from '../../pipeline/federated-subjects.js';
import { loadConfigOrReport } from '../context.js';
import { EXIT, UsageError } from '../usage.js';
import { defineCommand } from '../command.js';

export const FEDERATED_CREDENTIALS_HELP = `Usage: d365-exo-sync federated-credentials --config FILE
         (--workflow FILE --repository OWNER/REPO [--branch NAME] [--issuer URL]
          | --azure-devops ORGANIZATION/PROJECT/CONNECTION --organization-id GUID) [--json]

Prints every federated credential the app of tenant.auth.clientId needs, each with the Microsoft Graph
request and the az command (bash, e.g. Azure Cloud Shell) that adds it. Entra ID accepts a pipeline's
token only when a credential matches its issuer, subject and audience exactly.

  --config FILE         the config file (tenant.auth.clientId, tenant.auth.audience, the cloud)
  --workflow FILE       a GitHub workflow: one subject per environment of a job that signs in, one for
                        the branch (jobs without an environment), one for pull requests if it runs on them
  --repository R        OWNER/REPO the workflow runs in
  --branch NAME         the branch the workflow runs from (default main)
  --issuer URL          the OIDC issuer (default ${GITHUB_ISSUER}; GitHub
                        Enterprise Server: https://HOSTNAME/_services/token)
  --azure-devops O/P/C  an Azure DevOps service connection: organization, project, connection name
  --organization-id ID  the Azure DevOps organization's id (the connection's issuer ends with it)
  --json                the credentials as JSON

Exit: 0, 1 the config has problems, 2 usage error.
`;

export const federatedCredentialsCommand = defineCommand({
  help: FEDERATED_CREDENTIALS_HELP,
  options: {
    config: { type: 'string' },
    workflow: { type: 'string' },
    repository: { type: 'string' },
    branch: { type: 'string' },
    issuer: { type: 'string' },
    'azure-devops': { type: 'string' },
    'organization-id': { type: 'string' },
    json: { type: 'boolean' },
  },
  required: { config: '--config FILE' },
  async run(values, io) {
    if (!values.workflow === !values['azure-devops'])
      throw new UsageError(
        'give either --workflow FILE --repository OWNER/REPO or --azure-devops ORG/PROJECT/CONNECTION',
      );
    const loaded = loadConfigOrReport(values.config, io, values.json === true);
    if (!loaded) return EXIT.failed;
    const { tenant } = loaded.config;
    const clientId = tenant.auth.clientId;
    let subjects: FederatedSubject[];
    try {
      if (values.workflow) {
        if (!values.repository) throw new UsageError('--repository OWNER/REPO is required with --workflow');
        if (values.issuer && !/^https:\/\//.test(values.issuer)) throw new UsageError('--issuer: give an https:// URL');
        let text: string;
        try {
          text = readFileSync(resolve(io.cwd, values.workflow), 'utf8');
        } catch {
          throw new UsageError(`--workflow ${values.workflow} cannot be read`);
        }
        subjects = githubSubjects(
          text,
          values.repository,
          values.branch ?? 'main',
          federatedAudience(tenant.auth),
          values.issuer,
        );
        if (!subjects.length) throw new UsageError(`${values.workflow}: no job signs in to Entra ID`);
      } else {
        if (!values['organization-id']) throw new UsageError('--organization-id GUID is required with --azure-devops');
        subjects = [azureDevOpsSubject(values['azure-devops']!, values['organization-id'])];
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const graph = resolveCloudEndpoints(tenant).graph;
    if (values.json) {
      io.stdout(
        JSON.stringify(
          subjects.map((s) => ({ ...credentialBody(s), jobs: s.jobs, ...addCommands(s, clientId, graph) })),
          null,
          2,
        ) + '\n',
      );
      return EXIT.ok;
    }
    io.stdout(`Federated credentials for app ${clientId} (${subjects.length}):\n`);
    for (const subject of subjects) {
      const commands = addCommands(subject, clientId, graph);
      io.stdout(
        `\n${subject.subject}\n  issuer ${subject.issuer}, audience ${subject.audience}; used by ${subject.jobs.join(', ')}\n\n` +
          `  ${commands.az}\n\n  ${commands.graph.replace(/\n/g, '\n  ')}\n`,
      );
    }
    return EXIT.ok;
  },
});
