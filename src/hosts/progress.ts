// Progress of a long wait (Test & Enable of many mailboxes, the App for Outlook deployment): each round feeds
// the host's progress (a live line on a terminal, the task's progress on Azure DevOps), and when nothing was said
// for 30 s a line is written anyway, so a log or a pipeline never looks stuck.
import type { Host, Logger, ProgressUpdate } from './host.js';

/** What a wait needs from the host: its log, and its progress display when it has one. */
export interface ProgressSink {
  log: Logger;
  progress?: Host['progress'];
}

/** At least one line this often while a wait goes on (logs and pipelines). */
export const HEARTBEAT_MS = 30_000;

/** "2 min 10 s", "45 s". */
export function elapsedText(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
}

export class ProgressLine {
  private readonly started: number;
  private last?: { detail: string; percent?: number };
  private timer?: ReturnType<typeof setInterval>;
  private quietSince = Date.now();

  constructor(
    private readonly sink: ProgressSink,
    /** "Test & Enable" */
    private readonly title: string,
    private readonly now: () => number = Date.now,
    heartbeatMs = HEARTBEAT_MS,
  ) {
    this.started = now();
    this.timer = setInterval(() => this.heartbeat(heartbeatMs), Math.min(heartbeatMs, 5_000));
    this.timer.unref?.();
  }

  private send(update: Pick<ProgressUpdate, 'kind' | 'percent'>, detail: string): void {
    const elapsedMs = this.now() - this.started;
    const text = `${this.title}: ${detail}, ${elapsedText(elapsedMs)}`;
    const full: ProgressUpdate = { ...update, title: this.title, detail, elapsedMs, text };
    if (this.sink.progress) this.sink.progress(full);
    else if (update.kind === 'heartbeat') this.sink.log.info(text);
  }

  /** A new state of the wait ("37 of 40 have a result, 1 failed"); percent when it is known. */
  update(detail: string, percent?: number): void {
    this.last = { detail, ...(percent !== undefined ? { percent } : {}) };
    this.quietSince = Date.now();
    this.send({ kind: 'update', ...(percent !== undefined ? { percent } : {}) }, detail);
  }

  private heartbeat(heartbeatMs: number): void {
    if (!this.last || Date.now() - this.quietSince < heartbeatMs) return;
    this.quietSince = Date.now();
    this.send(
      { kind: 'heartbeat', ...(this.last.percent !== undefined ? { percent: this.last.percent } : {}) },
      this.last.detail,
    );
  }

  /** The wait is over: the live line is replaced by the final state. */
  done(detail?: string): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.send({ kind: 'done', percent: 100 }, detail ?? this.last?.detail ?? 'done');
  }
}
