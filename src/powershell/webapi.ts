// The invoker behind the D365 Web API client's `windows` transport: one PowerShell process per batch of
// requests, sent with -UseDefaultCredentials (the runner's own Windows identity; no secret on this path).
import type {
  PowerShellWebApiInvoker,
  PowerShellWebApiRequest,
  PowerShellWebApiResponse,
} from '../crm/windows-transport.js';
import { invokePowerShellPhase } from './invoke.js';
import type { PowerShellMode, PowerShellRuntime } from './types.js';

interface ScriptResponse {
  id?: string;
  status?: number;
  headers?: Record<string, unknown>;
  body?: unknown;
  error?: string;
  skipped?: boolean;
}

export function createWebApiInvoker(
  runtime: PowerShellRuntime,
  mode: PowerShellMode = 'apply',
): PowerShellWebApiInvoker {
  return async (
    requests: PowerShellWebApiRequest[],
    options: { timeoutMs: number },
  ): Promise<PowerShellWebApiResponse[]> => {
    const result = await invokePowerShellPhase(
      {
        phase: 'webapi',
        mode,
        parameters: {
          requests: requests.map((request, index) => ({ id: String(index + 1), ...request })),
          timeoutSec: Math.max(1, Math.ceil(options.timeoutMs / 1000)),
        },
        timeoutMs: options.timeoutMs,
      },
      runtime,
    );
    const raw = result.evidence.responses;
    const responses = (Array.isArray(raw) ? raw : raw ? [raw] : []) as ScriptResponse[];
    if (responses.length !== requests.length) {
      throw new Error(`PowerShell answered ${responses.length} of ${requests.length} Web API requests`);
    }
    return responses.map((response, index) => {
      // No HTTP answer at all (DNS, connection, TLS, timeout): an error the transport may retry, not a status.
      if (!response.status) {
        throw new Error(
          `Web API request ${index + 1} (${requests[index]!.method} ${requests[index]!.url}) got no response: ${response.error ?? 'skipped'}`,
        );
      }
      return { status: response.status, headers: response.headers ?? {}, body: response.body ?? '' };
    });
  };
}
