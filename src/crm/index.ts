// The D365 Web API client: its factory for a run, the client, the transports and the errors.
export { createCrmServices, organizationUrl, systemClock } from './client-factory.js';
export type { Clock, CreateCrmServicesOptions, CrmServices } from './client-factory.js';
export { WebApiClient, DEFAULT_API_VERSION, MAX_PAGE_SIZE } from './client.js';
export type { ChangeOperation, ChangeUnit, ChangeUnitResult, ExecuteOptions, WebApiClientOptions } from './client.js';
export { HttpsTransport, staticAuth } from './https-transport.js';
export type { AuthProvider, HttpsTransportOptions } from './https-transport.js';
export { AdfsPasswordAuth, AdfsTokenError } from './adfs-auth.js';
export { WindowsTransport } from './windows-transport.js';
export type {
  PowerShellWebApiInvoker,
  PowerShellWebApiRequest,
  PowerShellWebApiResponse,
} from './windows-transport.js';
export type { SendOptions, Transport, WebApiRequest, WebApiResponse } from './transport.js';
export { CrmError, CrmProtocolError, parseODataError } from './errors.js';
export { buildBatch, parseBatchResponse, BatchFormatError } from './batch.js';
