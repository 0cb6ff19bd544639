// Benchmark: configure-mailboxes for 5,000 mailboxes against the D365 emulator with 10 ms added to every
// request, side by side with a baseline that sends one request per operation and polls each mailbox
// alone. Prints round trips per mailbox, wall times and their ratio, and the client's heap while it
// polls. The emulator runs in a worker thread, so the heap measured here is the client's alone.
//
//   npx tsx bench/mailboxes.bench.ts [--mailboxes 5000] [--baseline-sample 500] [--latency 10]
//
// Not a test: nothing here asserts on time. The targets (≤ 0.02 round trips per mailbox, ≥ 20× faster
// than the baseline) are printed next to the figures.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseArgs } from 'node:util';

interface WorkerSetup {
  mailboxes: number;
  latencyMs: number;
  testDelayMs: number;
}

interface Started {
  url: string;
  caPem: string;
  negotiateToken: string;
}

interface Counters {
  api: number;
  batches: number;
  maxBatchOperations: number;
  writes: number;
  gets: number;
}

// ---- the worker: one emulator ------------------------------------------------------------------
async function workerMain(): Promise<void> {
  const { startD365Emulator } = await import('@d365-exo-sync/sandbox/d365');
  const setup = workerData as WorkerSetup;
  const emulator = await startD365Emulator({
    mailboxes: setup.mailboxes,
    latencyMs: setup.latencyMs,
    testAndEnable: { delayMs: setup.testDelayMs },
  });
  parentPort!.on('message', async (message: string) => {
    if (message === 'counters') {
      const r = emulator.requests;
      parentPort!.postMessage({
        api: r.api,
        batches: r.batches,
        maxBatchOperations: r.maxBatchOperations,
        writes: r.writes,
        gets: r.gets,
      } satisfies Counters);
    } else if (message === 'close') {
      await emulator.close();
      parentPort!.postMessage('closed');
    }
  });
  parentPort!.postMessage({
    url: emulator.url,
    caPem: emulator.caPem,
    negotiateToken: emulator.negotiateToken,
  } satisfies Started);
}

class EmulatorThread {
  private constructor(
    private readonly worker: Worker,
    readonly started: Started,
  ) {}

  static async start(setup: WorkerSetup): Promise<EmulatorThread> {
    // The worker runs this TypeScript file again; it registers tsx's loader for itself first.
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const source = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    const worker = new Worker(source, { eval: true, workerData: setup });
    const started = await new Promise<Started>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return new EmulatorThread(worker, started);
  }

  counters(): Promise<Counters> {
    const reply = new Promise<Counters>((resolve) => this.worker.once('message', resolve));
    this.worker.postMessage('counters');
    return reply;
  }

  async close(): Promise<void> {
    const done = new Promise((resolve) => this.worker.once('message', resolve));
    this.worker.postMessage('close');
    await done;
    await this.worker.terminate();
  }
}

// ---- the main thread: the client -----------------------------------------------------------------
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mailboxes: { type: 'string', default: '5000' },
      'baseline-sample': { type: 'string', default: '500' },
      latency: { type: 'string', default: '10' },
    },
  });
  const total = Number(values.mailboxes);
  const sample = Math.min(total, Number(values['baseline-sample']));
  const latencyMs = Number(values.latency);
  // Test & Enable finishes 2 s after it is scheduled; the config polls every second (the minimum).
  const testDelayMs = 2000;
  const intervalSeconds = 1;

  const { ConfigSchema } = await import('../src/config/schema.js');
  const { createCrmServices } = await import('../src/crm/client-factory.js');
  const { sandboxWindowsTransport } = await import('@d365-exo-sync/sandbox/d365');
  const { configureMailboxesPhase } = await import('../src/phases/configure-mailboxes.js');
  const { mailboxSettings } = await import('../src/phases/mailboxes/settings.js');
  const { selectMailboxes, mailboxColumns } = await import('../src/phases/mailboxes/select.js');
  const { mailboxChange, mailboxPatch, hasWrites, testScheduleTime } =
    await import('../src/phases/mailboxes/changes.js');
  const { testFinished } = await import('../src/phases/mailboxes/poll.js');
  const { readCaller } = await import('../src/phases/mailboxes/caller.js');
  const { ensureProfile } = await import('../src/phases/mailboxes/apply-changes.js');
  const { diffProfile } = await import('../src/phases/mailboxes/diff.js');
  const { readProfilesByName } = await import('../src/phases/mailboxes/profile.js');
  const { odataQuery } = await import('../src/crm/entities.js');
  type Logger = import('../src/hosts/host.js').Logger;
  type Host = import('../src/hosts/host.js').Host;

  const configFor = (url: string) =>
    ConfigSchema.parse({
      deployment: {
        url: 'https://crm.contoso.com/contoso',
        organization: 'contoso',
        servers: [{ name: 'CRMAPP01', roles: ['web', 'async', 'deployment-tools'] }],
        serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
        webApi: { auth: 'windows', url },
      },
      tenant: {
        id: '11111111-2222-3333-4444-555555555555',
        rootDomain: 'contoso.com',
        auth: { method: 'workload-identity', clientId: '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a' },
      },
      email: { mailboxes: { poll: { intervalSeconds, timeoutMinutes: 30 } } },
    });

  const heapSamples: number[] = [];
  const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const benchHost = (onInfo: (line: string) => void): Host => ({
    kind: 'bench',
    log: { ...quiet, info: onInfo },
    getInput: () => undefined,
    getSecret: () => undefined,
    registerSecret: () => {},
    mask: (text) => text,
    setOutput: () => {},
    writeSummary: async () => {},
    group: (_title, work) => work(),
    tempDir: () => '.',
    identity: () => ({ actor: 'bench', machine: 'bench', runId: 'bench' }),
    setResult: () => {},
  });
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

  console.log(
    `D365 mailbox benchmark: ${total} mailboxes, ${latencyMs} ms added latency per request, Test & Enable completes ${testDelayMs / 1000} s after scheduling, poll interval ${intervalSeconds} s`,
  );

  // -- optimized: the phase itself ------------------------------------------------------------------
  const fast = await EmulatorThread.start({ mailboxes: total, latencyMs, testDelayMs });
  const fastConfig = configFor(fast.started.url);
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
  const fastHost = benchHost((line) => {
    if (line.startsWith('Test & Enable:') && /have a result/.test(line))
      heapSamples.push(process.memoryUsage().heapUsed);
  });
  const fastStart = performance.now();
  const outcome = await configureMailboxesPhase.apply({
    config: fastConfig,
    host: fastHost,
    inputs: {},
    now: new Date(),
    services: {
      crm: createCrmServices(
        fastConfig,
        fastHost,
        {},
        { transport: sandboxWindowsTransport(fast.started, { timeoutMs: 120_000 }) },
      ),
    },
  });
  const fastMs = performance.now() - fastStart;
  clearInterval(sampler);
  const fastCounters = await fast.counters();
  await fast.close();
  const failed = outcome.results.filter((r) => r.status === 'failed').length;
  const configured = outcome.results.filter((r) => r.id.startsWith('mailbox.') && r.status === 'changed').length;

  // -- baseline: one request per operation, each mailbox polled alone ------------------------------
  const slow = await EmulatorThread.start({ mailboxes: sample, latencyMs, testDelayMs });
  const slowConfig = configFor(slow.started.url);
  const slowHost = benchHost(() => {});
  const { client, clock } = createCrmServices(
    slowConfig,
    slowHost,
    {},
    { transport: sandboxWindowsTransport(slow.started, { timeoutMs: 120_000 }) },
  );
  const settings = mailboxSettings(slowConfig);
  const slowStart = performance.now();
  const caller = await readCaller(client);
  const found = await readProfilesByName(client, settings.profileName);
  const profileChange = diffProfile(settings, found, '11111111-2222-3333-4444-555555555555');
  const profile = await ensureProfile(client, settings, profileChange, quiet);
  await client.update('organizations', caller.organizationId, {
    'defaultemailserverprofileid@odata.bind': `/emailserverprofiles(${profile.profileId})`,
  });
  const selection = await selectMailboxes(client, settings);
  const baselines = new Map<string, string | null>();
  const now = clock.now();
  const testAt = testScheduleTime(now);
  for (const record of selection.records) {
    const change = mailboxChange(record, { profileId: profile.profileId, settings, canApprove: true, now });
    if (!hasWrites(change)) continue;
    await client.update('mailboxes', record.id, mailboxPatch(change, settings, testAt));
    baselines.set(record.id, testAt);
  }
  const select = odataQuery({ $select: mailboxColumns(settings).join(',') });
  const { refreshRecord } = await import('../src/phases/mailboxes/select.js');
  const pending = new Set(baselines.keys());
  const records = new Map(selection.records.map((r) => [r.id, r]));
  while (pending.size) {
    await clock.sleep(intervalSeconds * 1000);
    for (const id of [...pending]) {
      const row = await client.get<import('../src/crm/entities.js').MailboxRow>(`mailboxes(${id})${select}`);
      const record = records.get(id)!;
      refreshRecord(record, row, settings);
      if (testFinished(record, baselines.get(id) ?? null, settings)) pending.delete(id);
    }
  }
  const slowMs = performance.now() - slowStart;
  const slowCounters = await slow.counters();
  await slow.close();

  // -- figures ---------------------------------------------------------------------------------------
  const fastTrips = fastCounters.api / total;
  const slowTrips = slowCounters.api / sample;
  const slowExtrapolatedMs = (slowMs / sample) * total;
  const ratio = slowExtrapolatedMs / fastMs;
  const evidence = outcome.results.find((r) => r.id === 'crm.mailboxes')?.evidence as
    { pollRounds: number } | undefined;
  const pollHeap = heapSamples.length
    ? `${mb(Math.min(...heapSamples))} .. ${mb(Math.max(...heapSamples))} over ${heapSamples.length} poll rounds`
    : 'no poll rounds';
  console.log('');
  console.log(
    `optimized (configure-mailboxes, ${total} mailboxes): ${(fastMs / 1000).toFixed(1)} s, ${fastCounters.api} round trips = ${fastTrips.toFixed(4)} per mailbox`,
  );
  console.log(
    `  ${fastCounters.batches} $batch requests (largest ${fastCounters.maxBatchOperations} operations), ${fastCounters.writes} writes, ${evidence?.pollRounds ?? '?'} poll rounds; ${configured} mailboxes configured, ${failed} failed steps`,
  );
  console.log(`  client heap: ${mb(heapBefore)} before, peak ${mb(heapPeak)}; while polling ${pollHeap}`);
  console.log(
    `baseline (one request per operation, each mailbox polled alone), measured on ${sample} of ${total} mailboxes: ${(slowMs / 1000).toFixed(1)} s, ${slowCounters.api} round trips = ${slowTrips.toFixed(2)} per mailbox`,
  );
  if (sample < total)
    console.log(
      `  extrapolated linearly to ${total} mailboxes (its cost is per mailbox): ${(slowExtrapolatedMs / 1000).toFixed(0)} s`,
    );
  console.log('');
  console.log(
    `round trips per mailbox: ${fastTrips.toFixed(4)} (target ≤ 0.02) ${fastTrips <= 0.02 ? 'MET' : 'MISSED'}`,
  );
  console.log(
    `wall-time ratio baseline/optimized: ${ratio.toFixed(1)}× (target ≥ 20×) ${ratio >= 20 ? 'MET' : 'MISSED'}`,
  );
  if (failed) process.exitCode = 1;
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  void workerMain();
}
