// The config file's schema: the one source of truth for its types, its JSON Schema (config.schema.json)
// and its documentation. Objects are strict: a misspelt key is an error, not a silently ignored setting.
import * as z from 'zod';
import {
  dnsName,
  envName,
  guid,
  httpsUrl,
  netbiosName,
  odataFilterProblem,
  ORGANIZATION_PATTERN,
  serviceAccount,
  windowsPath,
  wildcardOrDnsName,
  withoutCommandSyntax,
} from './formats.js';

export const DYNAMICS_APP_ID = '00000007-0000-0000-c000-000000000000';
/** The tenant's initial domain: .onmicrosoft.com, or .onmicrosoft.us in GCC High. */
export const ONMICROSOFT_PATTERN = /\.onmicrosoft\.(com|us)$/i;
export const SERVER_ROLES = ['web', 'async', 'deployment-tools'] as const;

const server = z
  .strictObject({
    name: netbiosName('the computer name the runner runs on'),
    roles: z
      .array(z.enum(SERVER_ROLES))
      .min(1, 'list at least one role: web, async or deployment-tools')
      .describe('D365 server roles on this machine: web, async, deployment-tools'),
    runnerLabel: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'must be a runner label like crm-app01 (letters, digits, . _ -)')
      .optional()
      .describe(
        'Self-hosted runner label (GitHub) or environment resource name (Azure DevOps); default: the server name in lower case',
      ),
  })
  .describe('One D365 server');

/** What both Web API transports share: where D365 is reached, and how requests are sized and timed. */
const webApiCommon = {
  url: httpsUrl('deployment.webApi.url')
    .optional()
    .describe('Organization URL the runner reaches D365 under, when it differs from deployment.url'),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .describe(
      'Operations per $batch request. v9.0 allows at most 100: a larger value is sent as 100, with a warning (values up to 1000 stay valid so existing configs load)',
    ),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(16)
    .default(4)
    .describe(
      '$batch requests in flight at once when writing mailboxes (on-premises has no service-protection limits; 429/503 with Retry-After are still honoured)',
    ),
  timeoutSeconds: z.number().int().min(5).max(600).default(100).describe('Timeout of one Web API request'),
  apiVersion: z.enum(['9.0', '9.1']).default('9.0').describe('Web API version in the URL: <url>/api/data/v9.0/'),
  pageSize: z
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(5000)
    .describe('Rows per page when reading (Prefer: odata.maxpagesize; 5000 is the Web API maximum)'),
};

const webApiWindows = z.strictObject({
  auth: z.literal('windows').describe("Windows integrated authentication with the runner's own identity (no secret)"),
  ...webApiCommon,
});

const webApiAdfs = z.strictObject({
  auth: z
    .literal('adfs-password')
    .describe('OAuth password grant from the AD FS token endpoint (IFD, runners outside the domain)'),
  tokenEndpoint: httpsUrl('deployment.webApi.tokenEndpoint').describe(
    'AD FS token endpoint, e.g. https://sts.contoso.com/adfs/oauth2/token',
  ),
  clientId: guid('the AD FS client id registered for this toolkit'),
  resource: httpsUrl('deployment.webApi.resource').describe(
    'The relying party identifier of the D365 organization, e.g. https://crm.contoso.com/',
  ),
  usernameEnv: envName('environment variable holding the service account user name'),
  passwordEnv: envName('environment variable holding the service account password'),
  scope: z
    .string()
    .regex(
      /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/,
      'must be OAuth scope values separated by spaces, like openid',
    )
    .optional()
    .describe(
      'OAuth scope sent with the AD FS password grant; default: none (the AD FS 2016+ password flow needs grant_type, client_id, resource, username and password only)',
    ),
  ...webApiCommon,
});

const deployment = z
  .strictObject({
    url: httpsUrl('deployment.url').describe(
      "The organization's URL: https://<host>/<org> on-premises, https://<org>.<domain> with IFD",
    ),
    organization: z
      .string()
      .regex(
        ORGANIZATION_PATTERN,
        'must be the unique name from Deployment Manager, like contoso (a letter, then letters, digits or _)',
      )
      .describe('Organization unique name in Deployment Manager'),
    toolsPath: windowsPath('deployment.toolsPath')
      .default('C:\\Program Files\\Microsoft Dynamics CRM\\Tools')
      .describe('Folder holding CertificateReconfiguration.ps1 on the Deployment Tools server'),
    servers: z
      .array(server)
      .min(1, 'list every D365 server with its roles')
      .describe('Every D365 server and its roles'),
    serviceAccounts: z
      .strictObject({
        async: serviceAccount('deployment.serviceAccounts.async').describe(
          'Account running the Asynchronous Processing Service',
        ),
        web: serviceAccount('deployment.serviceAccounts.web').describe('Account running the CRM web application pool'),
      })
      .describe('Service accounts that need Read on the private key'),
    iis: z
      .strictObject({
        rebindHttps: z
          .boolean()
          .default(false)
          .describe('Point the HTTPS binding of the D365 web site at the new certificate'),
        port: z.number().int().min(1).max(65535).default(443).describe('Port of the HTTPS binding to rebind'),
        hostHeader: dnsName('deployment.iis.hostHeader')
          .optional()
          .describe('Host name of the HTTPS binding, when the site has several'),
        siteName: withoutCommandSyntax(z.string().min(1), 'deployment.iis.siteName')
          .default('Microsoft Dynamics CRM')
          .describe('IIS site name of D365'),
      })
      .default({ rebindHttps: false, siteName: 'Microsoft Dynamics CRM', port: 443 })
      .describe('IIS binding of the D365 web site'),
    removeSameSubject: z
      .boolean()
      .default(true)
      .describe(
        'install-certificate: remove older certificates with the same subject from LocalMachine\\My, right after the new one is imported and before configure-crm (CRM looks its certificate up by subject; two with one subject fail with "Private key not found"). Keep the previous PFX for a rollback: the servers no longer hold it',
      ),
    powershellTimeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(360)
      .default(30)
      .describe('Timeout of one Windows phase on one server; the process tree is killed then'),
    restartServices: z
      .boolean()
      .default(true)
      .describe('Restart the async services and recycle the CRM app pool when a server changed'),
    webApi: z
      .discriminatedUnion('auth', [webApiWindows, webApiAdfs])
      .default({
        auth: 'windows',
        batchSize: 100,
        concurrency: 4,
        timeoutSeconds: 100,
        apiVersion: '9.0',
        pageSize: 5000,
      })
      .describe('How the toolkit reaches the D365 Web API'),
  })
  .describe('The D365 on-premises deployment');

/** The default audience of a federated credential (Microsoft Entra: "Configure an app to trust an external identity provider"). */
export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';

const authWorkloadIdentity = z.strictObject({
  method: z
    .literal('workload-identity')
    .describe('Federated credential: GitHub OIDC token or Azure DevOps service connection'),
  clientId: guid('tenant.auth.clientId: the Entra app that runs the cloud steps'),
  tokenFileEnv: envName(
    'environment variable naming a file with the federated token (default: AZURE_FEDERATED_TOKEN_FILE, or the pipeline OIDC token)',
  ).optional(),
  audience: z
    .string()
    .min(1)
    .regex(/^\S+$/, 'tenant.auth.audience: one value without spaces, e.g. api://AzureADTokenExchange')
    .default(FEDERATED_AUDIENCE)
    .describe(
      'Audience of the GitHub Actions OIDC token: the audience the federated credential was created with. azure/login and Microsoft Entra use api://AzureADTokenExchange in every cloud (US Government included); Azure DevOps service connections always use that value',
    ),
});
const authClientCertificate = z.strictObject({
  method: z.literal('client-certificate'),
  clientId: guid('tenant.auth.clientId: the Entra app that runs the cloud steps'),
  certificateEnv: envName('environment variable holding the PEM certificate and key of the app'),
});
const authClientSecret = z.strictObject({
  method: z.literal('client-secret'),
  clientId: guid('tenant.auth.clientId: the Entra app that runs the cloud steps'),
  secretEnv: envName('environment variable holding the client secret'),
});

const tenant = z
  .strictObject({
    id: guid('tenant.id: the Entra tenant id').optional(),
    domain: dnsName('tenant.domain, e.g. contoso.onmicrosoft.com').optional(),
    cloud: z.enum(['public', 'usgov']).default('public').describe('Microsoft cloud: public, or usgov (GCC High)'),
    rootDomain: dnsName('tenant.rootDomain').describe(
      `Domain D365 is reached under; the service principal name ${DYNAMICS_APP_ID}/*.<rootDomain> is ensured`,
    ),
    ensureDomainSpn: z
      .boolean()
      .default(true)
      .describe(
        `Ensure the ${DYNAMICS_APP_ID}/*.<rootDomain> service principal name (Microsoft's current script only ensures the bare app id; UNCONFIRMED whether still needed)`,
      ),
    auth: z
      .discriminatedUnion('method', [authWorkloadIdentity, authClientCertificate, authClientSecret])
      .describe('How the cloud steps sign in to Entra ID'),
    endpoints: z
      .strictObject({
        authority: httpsUrl('tenant.endpoints.authority')
          .optional()
          .describe('Entra authority host, e.g. https://login.microsoftonline.us'),
        graph: httpsUrl('tenant.endpoints.graph')
          .optional()
          .describe('Microsoft Graph endpoint, e.g. https://graph.microsoft.us'),
        s2sMetadataUrl: httpsUrl('tenant.endpoints.s2sMetadataUrl')
          .optional()
          .describe('S2SDefaultAuthorizationServerMetadataUrl that configure-crm sets'),
      })
      .optional()
      .describe('Overrides of the cloud endpoints (sovereign clouds, the sandbox)'),
    graphTimeBudgetMinutes: z
      .number()
      .int()
      .min(1)
      .max(120)
      .default(10)
      .describe(
        'Time one phase may spend on Microsoft Graph: a Retry-After is waited out as given while it ends within this budget; a longer one fails the phase at once, naming the wait',
      ),
  })
  .describe('The Entra ID tenant of Exchange Online');

const certificate = z
  .strictObject({
    minDaysRemaining: z
      .number()
      .int()
      .min(0)
      .max(3650)
      .default(14)
      .describe('Refuse a certificate with fewer days left'),
    hosts: z
      .array(wildcardOrDnsName('certificate.hosts entry'))
      .optional()
      .describe('Names the certificate must cover (default: the host of deployment.url)'),
  })
  .default({ minDaysRemaining: 14 })
  .describe('Checks of the new certificate');

const adfs = z
  .strictObject({
    server: netbiosName('adfs.server'),
    url: httpsUrl('adfs.url')
      .optional()
      .describe('AD FS service URL, e.g. https://sts.contoso.com; watch checks its TLS certificate'),
    formsAuthentication: z.boolean().default(true).describe('Enable forms authentication (intranet and extranet)'),
    outlookApp: z.boolean().default(true).describe('Register the App for Outlook as an AD FS client'),
    serverRoleIdentifier: httpsUrl('adfs.serverRoleIdentifier')
      .optional()
      .describe('Relying party identifier for Grant-AdfsApplicationPermission, with the trailing slash (AD FS 2016+)'),
    updateSslCertificate: z
      .boolean()
      .default(false)
      .describe('Also make the new certificate the AD FS SSL and service-communications certificate'),
  })
  .describe('The AD FS server');

const attributeName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'must be a D365 attribute logical name like testemailconfigurationscheduled');
const TEST_AND_ENABLE_FIELDS = {
  scheduled: 'testemailconfigurationscheduled',
  postponeUntil: 'postponetestemailconfigurationuntil',
  completedOn: 'testmailboxaccesscompletedon',
};

/** email.mailboxes when the config leaves it out (the same values as the keys' own defaults). */
const MAILBOX_DEFAULTS = {
  select: 'all-active-users',
  approve: true,
  testAndEnable: true,
  appointmentsContactsTasks: true,
  outlookApp: false,
  testAndEnableFields: TEST_AND_ENABLE_FIELDS,
  poll: { intervalSeconds: 30, timeoutMinutes: 30 },
} as const;

/** email.profile when the config leaves it out. */
const PROFILE_DEFAULTS = { name: 'Exchange Online (Hybrid)', autodiscover: true, organizationDefault: true };

const mailboxes = z
  .strictObject({
    select: z
      .enum(['all-active-users', 'addresses', 'filter'])
      .default('all-active-users')
      .describe('Which mailboxes: every enabled user, the listed addresses, or an OData filter on mailboxes'),
    addresses: z
      .array(z.email('must be an email address like anna@contoso.com'))
      .optional()
      .describe('With select: addresses'),
    filter: z
      .string()
      .min(1)
      .superRefine((value, ctx) => {
        const problem = odataFilterProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe('With select: filter — an OData $filter on mailboxes'),
    approve: z.boolean().default(true).describe('Approve the email addresses (needs prvApproveRejectEmailAddress)'),
    testAndEnable: z.boolean().default(true).describe('Schedule Test & Enable and wait for the results'),
    appointmentsContactsTasks: z.boolean().default(true).describe('Also synchronise appointments, contacts and tasks'),
    outlookApp: z.boolean().default(false).describe('Deploy the App for Outlook to eligible users (UNCONFIRMED API)'),
    testAndEnableFields: z
      .strictObject({
        scheduled: attributeName.default('testemailconfigurationscheduled'),
        postponeUntil: attributeName.default('postponetestemailconfigurationuntil'),
        completedOn: attributeName.default('testmailboxaccesscompletedon'),
      })
      .default(TEST_AND_ENABLE_FIELDS)
      .describe(
        'Mailbox attributes that schedule and report Test & Enable (Microsoft documents no Web API for it: UNCONFIRMED, hence configurable)',
      ),
    poll: z
      .strictObject({
        intervalSeconds: z.number().int().min(1).max(600).default(30),
        timeoutMinutes: z.number().int().min(1).max(1440).default(30),
      })
      .default({ intervalSeconds: 30, timeoutMinutes: 30 }),
  })
  .default(MAILBOX_DEFAULTS);

const email = z
  .strictObject({
    profile: z
      .strictObject({
        name: z.string().min(1).max(100).default('Exchange Online (Hybrid)'),
        autodiscover: z.boolean().default(true).describe('Let D365 find the Exchange Online URL (recommended)'),
        organizationDefault: z
          .boolean()
          .default(true)
          .describe("Make the profile the organization's default (Email Configuration Settings › Server Profile)"),
        incomingServerLocation: httpsUrl('email.profile.incomingServerLocation').optional(),
        outgoingServerLocation: httpsUrl('email.profile.outgoingServerLocation').optional(),
      })
      .default(PROFILE_DEFAULTS),
    mailboxes,
  })
  .default({ profile: PROFILE_DEFAULTS, mailboxes: MAILBOX_DEFAULTS })
  .describe('Server-side synchronization in D365');

/** The EWS settings configure-exchange ensures (see docs/phases.md, configure-exchange). */
const EXCHANGE_EWS_DEFAULTS = {
  appIds: [DYNAMICS_APP_ID],
  enableOrganization: false,
  userAgents: [] as string[],
  enableMailboxes: false,
};

const exchange = z
  .strictObject({
    organization: dnsName('exchange.organization, e.g. contoso.onmicrosoft.com')
      .optional()
      .describe(
        "The tenant's primary .onmicrosoft.com domain, which app-only sign-in to Exchange Online needs (Connect-ExchangeOnline -Organization); default: tenant.domain when it is an .onmicrosoft.com domain",
      ),
    ews: z
      .strictObject({
        appIds: z
          .array(guid('exchange.ews.appIds entry'))
          .min(1, `list at least one application id, e.g. ${DYNAMICS_APP_ID}`)
          .default([DYNAMICS_APP_ID])
          .describe(
            `Application ids added to the tenant's EwsAllowedAppIDs (every other entry is kept). Microsoft has not said which id the D365 on-premises calls carry: ${DYNAMICS_APP_ID} is presumed (UNCONFIRMED), hence configurable`,
          ),
        enableOrganization: z
          .boolean()
          .default(false)
          .describe(
            "Let configure-exchange set the organization's EwsEnabled to True when it is unset or False (that enables EWS for the whole tenant; without this, plan shows the change and apply refuses)",
          ),
        userAgents: z
          .array(
            withoutCommandSyntax(z.string().min(1).max(256), 'exchange.ews.userAgents entry').describe(
              'A user agent, wildcards * allowed, e.g. CRM/*',
            ),
          )
          .default([])
          .describe(
            "User agents to let through the organization's EwsApplicationAccessPolicy (added to EwsAllowList, or the matching EwsBlockList entries removed). Empty: the policy is only reported. Microsoft does not document the user agent D365 sends (UNCONFIRMED)",
          ),
        enableMailboxes: z
          .boolean()
          .default(false)
          .describe(
            'Let configure-exchange set EwsEnabled True on synchronized mailboxes where it is False (Set-CASMailbox); without this they are reported',
          ),
      })
      .default(EXCHANGE_EWS_DEFAULTS)
      .describe("The tenant's EWS access for the Dynamics app"),
  })
  .default({ ews: EXCHANGE_EWS_DEFAULTS })
  .describe('Exchange Online: EWS access for server-side synchronization (configure-exchange)');

const retire = z
  .strictObject({
    expiredKeys: z
      .boolean()
      .default(false)
      .describe('Also remove expired key credentials that this toolkit did not add'),
    serverCertificates: z
      .boolean()
      .default(false)
      .describe(
        'No effect (kept so existing configs load; retire-previous warns when it is true): retire-previous changes only Entra ID. install-certificate already removes the previous certificate from LocalMachine\\My when it has the same subject (deployment.removeSameSubject)',
      ),
  })
  .default({ expiredKeys: false, serverCertificates: false });

const fields = z.strictObject({
  $schema: z.string().optional().describe('Path or URL of config.schema.json, for editors'),
  deployment,
  tenant,
  certificate,
  adfs: adfs.optional(),
  email,
  exchange,
  retire,
});

/** The config file as validated, with defaults filled in. */
export const ConfigSchema = fields.superRefine((config, ctx) => {
  const tools = config.deployment.servers.filter((s) => s.roles.includes('deployment-tools'));
  if (tools.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['deployment', 'servers'],
      message: `exactly one server must have the deployment-tools role (found ${tools.length}${tools.length ? ': ' + tools.map((s) => s.name).join(', ') : ''}); it runs configure-crm`,
    });
  }
  for (const role of SERVER_ROLES) {
    if (!config.deployment.servers.some((s) => s.roles.includes(role))) {
      ctx.addIssue({
        code: 'custom',
        path: ['deployment', 'servers'],
        message: `no server has the ${role} role: add it to the server that runs it`,
      });
    }
  }
  const seen = new Map<string, number>();
  config.deployment.servers.forEach((s, index) => {
    const key = s.name.toUpperCase();
    if (seen.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['deployment', 'servers', index, 'name'],
        message: `${s.name} is listed twice (also at deployment.servers.${seen.get(key)}): list each server once with all its roles`,
      });
    } else seen.set(key, index);
    const roles = new Set(s.roles);
    if (roles.size !== s.roles.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['deployment', 'servers', index, 'roles'],
        message: 'a role is listed twice',
      });
    }
  });
  // Cross-field checks also run when a field failed its own check: each guards its inputs.
  const host = URL.canParse(config.deployment.url) ? new URL(config.deployment.url).hostname.toLowerCase() : undefined;
  const root = config.tenant.rootDomain.toLowerCase();
  if (host && host !== root && !host.endsWith('.' + root)) {
    ctx.addIssue({
      code: 'custom',
      path: ['tenant', 'rootDomain'],
      message: `${config.tenant.rootDomain} does not cover ${host} (the host of deployment.url): use the domain D365 is reached under, e.g. ${host.split('.').slice(1).join('.') || host}`,
    });
  }
  if (!config.tenant.id === !config.tenant.domain) {
    ctx.addIssue({
      code: 'custom',
      path: ['tenant'],
      message: 'give exactly one of tenant.id (GUID) or tenant.domain (e.g. contoso.onmicrosoft.com)',
    });
  }
  const mb = config.email.mailboxes;
  if (mb.select === 'addresses' && !mb.addresses?.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['email', 'mailboxes', 'addresses'],
      message: 'select: addresses needs a list of addresses',
    });
  }
  if (mb.select === 'filter' && !mb.filter) {
    ctx.addIssue({
      code: 'custom',
      path: ['email', 'mailboxes', 'filter'],
      message: 'select: filter needs an OData filter',
    });
  }
  if (mb.select !== 'addresses' && mb.addresses) {
    ctx.addIssue({
      code: 'custom',
      path: ['email', 'mailboxes', 'addresses'],
      message: `addresses are only read with select: addresses (select is ${mb.select})`,
    });
  }
  if (mb.select !== 'filter' && mb.filter) {
    ctx.addIssue({
      code: 'custom',
      path: ['email', 'mailboxes', 'filter'],
      message: `filter is only read with select: filter (select is ${mb.select})`,
    });
  }
  const profile = config.email.profile;
  if (!profile.autodiscover) {
    for (const key of ['incomingServerLocation', 'outgoingServerLocation'] as const) {
      if (!profile[key]) {
        ctx.addIssue({
          code: 'custom',
          path: ['email', 'profile', key],
          message: 'required when autodiscover is false, e.g. https://outlook.office365.com/EWS/Exchange.asmx',
        });
      }
    }
  }
  if (config.exchange.organization && !ONMICROSOFT_PATTERN.test(config.exchange.organization)) {
    ctx.addIssue({
      code: 'custom',
      path: ['exchange', 'organization'],
      message:
        "must be the tenant's primary .onmicrosoft.com domain, e.g. contoso.onmicrosoft.com (Connect-ExchangeOnline takes no other domain for app-only sign-in)",
    });
  }
  if (config.adfs?.serverRoleIdentifier && !config.adfs.serverRoleIdentifier.endsWith('/')) {
    ctx.addIssue({
      code: 'custom',
      path: ['adfs', 'serverRoleIdentifier'],
      message: 'must end with a trailing slash /, as AD FS compares it literally',
    });
  }
});

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
