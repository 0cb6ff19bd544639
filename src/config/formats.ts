// Field formats of the config file. Each check says what a valid value looks like, because the
// person reading the error has usually pasted the value from a portal or a web page.
import * as z from 'zod';

export const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DNS_LABEL = '(?!-)[A-Za-z0-9-]{1,63}(?<!-)';
export const DNS_NAME_PATTERN = new RegExp(`^(?=.{1,253}$)${DNS_LABEL}(\\.${DNS_LABEL})+$`);
/** NetBIOS computer name: 1-15 characters, letters, digits and hyphens, not only digits, no dots. */
export const NETBIOS_PATTERN = /^(?!\d+$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,13}[A-Za-z0-9])?$/;
const DOMAIN_ACCOUNT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,14}\\[^\\/"[\]:;|=,+*?<>@\s][^\\/"[\]:;|=,+*?<>@]{0,19}$/;
const UPN_PATTERN = /^[^\s@\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
/** Organization unique name as Deployment Manager shows it: a letter, then letters, digits or underscores. */
export const ORGANIZATION_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const guid = (what: string) =>
  z
    .string()
    .regex(GUID_PATTERN, `must be a GUID like 11111111-2222-3333-4444-555555555555 (${what})`)
    .describe(`${what} (GUID)`);

export const dnsName = (what: string) =>
  z
    .string()
    .regex(DNS_NAME_PATTERN, `must be a DNS name like crm.contoso.com (${what}), without scheme, path or port`)
    .describe(`${what} (DNS name)`);

export const wildcardOrDnsName = (what: string) =>
  z
    .string()
    .refine(
      (value) => DNS_NAME_PATTERN.test(value.startsWith('*.') ? value.slice(2) : value),
      `must be a DNS name like crm.contoso.com or *.contoso.com (${what})`,
    )
    .describe(`${what} (DNS name, may start with *.)`);

export const netbiosName = (what: string) =>
  z
    .string()
    .regex(
      NETBIOS_PATTERN,
      `must be a NetBIOS computer name like CRMAPP01: 1-15 letters, digits or hyphens, no dots (${what})`,
    )
    .describe(`${what} (NetBIOS computer name)`);

/**
 * Command syntax in a value that is a name, a path or a URL: PowerShell's escape character, a subexpression, a
 * statement separator or a control character (a line break) is never part of one. Such a value was pasted along
 * with a command, or is an injection attempt; either way it must stop here, before it reaches PowerShell, a
 * Graph or Web API request, or AD FS (where it would be stored as it is). Returns what was found, or undefined.
 */
export function commandSyntax(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
  const control = /[\u0000-\u001F\u007F]/.exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `a line break or control character (U+${code}) at character ${control.index + 1}`;
  }
  if (value.includes('`')) return 'a backtick ` (the PowerShell escape character)';
  if (/\$[({]/.test(value)) return 'a PowerShell subexpression $( or ${';
  if (value.includes(';')) return 'a statement separator ;';
  return undefined;
}

const commandSyntaxFix = 'give only the value itself: it looks like a pasted command or an injection attempt';

/** Refines a string field: no command syntax (see commandSyntax). */
export const withoutCommandSyntax = (schema: z.ZodString, what: string) =>
  schema.superRefine((value, ctx) => {
    const found = commandSyntax(value);
    if (found) ctx.addIssue({ code: 'custom', message: `contains ${found}: ${commandSyntaxFix} (${what})` });
  });

/** Characters a URL never carries unencoded (RFC 3986), plus the quote PowerShell and OData treat as a delimiter. */
const URL_FORBIDDEN = /[\s'"<>{}|\\^]/;

export const httpsUrl = (what: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const found =
        commandSyntax(value) ?? (URL_FORBIDDEN.test(value) ? `"${URL_FORBIDDEN.exec(value)![0]}"` : undefined);
      if (found) {
        ctx.addIssue({
          code: 'custom',
          message: `contains ${found}, which no URL carries: ${commandSyntaxFix}, like https://crm.contoso.com/contoso (${what})`,
        });
        return;
      }
      const url = URL.canParse(value) ? new URL(value) : undefined;
      const valid =
        !!url && url.protocol === 'https:' && url.hostname !== '' && !url.search && !url.hash && !url.username;
      if (!valid) {
        ctx.addIssue({
          code: 'custom',
          message: `must be an https:// URL like https://crm.contoso.com/contoso, without query or fragment (${what})`,
        });
      }
    })
    .describe(`${what} (https URL)`);

export const serviceAccount = (what: string) =>
  z
    .string()
    .refine(
      (value) => (DOMAIN_ACCOUNT_PATTERN.test(value) || UPN_PATTERN.test(value)) && !commandSyntax(value),
      `must be a domain account like CONTOSO\\svc-crm-async or a UPN like svc-crm-async@contoso.com, without command syntax (\` $( ; line breaks) (${what})`,
    )
    .describe(`${what} (DOMAIN\\account or UPN)`);

export const envName = (what: string) =>
  z
    .string()
    .regex(
      ENV_NAME_PATTERN,
      `must be the NAME of an environment variable like CRM_PASSWORD (letters, digits, _), not its value (${what})`,
    )
    .describe(`${what} (environment variable name; the secret itself never goes in the config)`);

export const windowsPath = (what: string) =>
  withoutCommandSyntax(
    z
      .string()
      .regex(
        /^(?:[A-Za-z]:\\|\\\\)[^<>"|?*]*$/,
        `must be an absolute Windows path like C:\\Program Files\\... (${what})`,
      ),
    what,
  ).describe(`${what} (absolute Windows path)`);

/**
 * What is wrong with an OData $filter expression from the config, or undefined. The toolkit sends it wrapped in
 * parentheses, so a filter that closes more than it opens would break out of them and select something else than
 * it says (an injection); an unterminated 'string' or query syntax (& ? #, $top=...) means the value is not a filter
 * expression at all. Doubled quotes '' inside a string are one quote, as OData escapes them.
 */
export function odataFilterProblem(filter: string): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < filter.length; i++) {
    const ch = filter[i]!;
    if (inString) {
      if (ch === "'") {
        if (filter[i + 1] === "'") i++;
        else inString = false;
      }
      continue;
    }
    if (ch === "'") inString = true;
    else if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth < 0) {
        return `closes a parenthesis it never opened at character ${i + 1}: the toolkit wraps the filter in ( ), so this would change what it selects; write one balanced OData $filter expression, like statecode eq 0 and contains(emailaddress,'@contoso.com')`;
      }
    } else if ('&?#'.includes(ch) || (ch === '$' && /^\$[a-z]+=/i.test(filter.slice(i)))) {
      return `contains query syntax (${ch === '$' ? filter.slice(i).split('=')[0] + '=' : ch}) at character ${i + 1} outside a 'string': give only the $filter expression, without $top, $select or other query options`;
    }
  }
  if (inString) return "has a 'string' that is never closed: end it with ' (write a quote inside a string as '')";
  if (depth > 0) return `opens ${depth} parenthesis(es) it never closes: write one balanced OData $filter expression`;
  return undefined;
}
