/** The live state of one simulator instance: config, limiter windows, faults, stats, request log, responses. */
import { createHash, timingSafeEqual } from "node:crypto";
import type { InstanceConf } from "./config.ts";
import { FaultBook } from "./faults.ts";
import { Limiters } from "./limiter.ts";
import { ResponsesStore } from "./responses-store.ts";
import { RequestLog, Stats } from "./stats.ts";

export interface Instance {
  conf: InstanceConf;
  limiters: Limiters;
  faults: FaultBook;
  stats: Stats;
  log: RequestLog;
  responses: ResponsesStore;
  /** Aborted by stop(): pending sleeps end, streams and background responses give up. */
  abort: AbortController;
  isValidKey(key: string): boolean;
  /** New, empty rate-limit windows (PATCH /++/config and reset(), as upstream rebuilds its limiters). */
  resetLimiters(): void;
  /** Clear stats, request log, windows and stored responses. */
  reset(): void;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

export function createInstance(conf: InstanceConf): Instance {
  const tpm: Record<string, number> = {};
  for (const d of conf.deployments.values()) tpm[d.name] = d.tpm;
  const keyDigest = digest(conf.apiKey);
  const inst: Instance = {
    conf,
    limiters: new Limiters(tpm),
    faults: new FaultBook(conf.faults),
    stats: new Stats(conf.name),
    log: new RequestLog(conf.requestLogSize),
    responses: new ResponsesStore(conf.maxStoredResponses),
    abort: new AbortController(),
    // Digests make the comparison constant-time whatever the lengths.
    isValidKey: (key) => timingSafeEqual(digest(key), keyDigest),
    resetLimiters: () => inst.limiters.reset(),
    reset: () => {
      inst.stats.reset();
      inst.log.clear();
      inst.limiters.reset();
      inst.responses.clear();
    },
  };
  return inst;
}
