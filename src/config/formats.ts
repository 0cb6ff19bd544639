// Field formats of the config file. Each check says what a valid value looks like, because the
// person reading the error has usually pasted the value from a portal or a web page.
import { z } from 'zod';

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

export const httpsUrl = (what: string) =>
  z
    .string()
    .refine((value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'https:' && url.hostname !== '' && !url.search && !url.hash && !url.username;
      } catch {
        return false;
      }
    }, `must be an https:// URL like https://crm.contoso.com/contoso, without query or fragment (${what})`)
    .describe(`${what} (https URL)`);

export const serviceAccount = (what: string) =>
  z
    .string()
    .refine(
      (value) => DOMAIN_ACCOUNT_PATTERN.test(value) || UPN_PATTERN.test(value),
      `must be a domain account like CONTOSO\\svc-crm-async or a UPN like svc-crm-async@contoso.com (${what})`,
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
  z
    .string()
    .regex(/^(?:[A-Za-z]:\\|\\\\)[^<>"|?*]*$/, `must be an absolute Windows path like C:\\Program Files\\... (${what})`)
    .describe(`${what} (absolute Windows path)`);
