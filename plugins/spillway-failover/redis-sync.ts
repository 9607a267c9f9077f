/**
 * Cooldowns and Responses affinity shared by every gateway replica through Redis (optional). Redis is never needed
 * to answer a request: a new cooldown or affinity is pushed from a zero-delay timer, one worker per node pulls the
 * replicas' cooldowns into the shared dict every SYNC_INTERVAL_S, and the only call on the request path (an
 * affinity lookup the shared dict could not answer) is bounded by `timeout_ms` per step.
 *
 * Redis down, slow or refusing auth fails open: the failing call returns nothing, the node marks Redis down in the
 * shared dict for DOWN_S (requests and pushes leave it alone meanwhile, so a slow Redis costs one lookup, not one
 * per request), the sync timer keeps probing it every second and lifts the mark as soon as it answers, and the node
 * logs one warning per REPORT_INTERVAL_S whatever the number of failures.
 *
 * Redis layout: one hash `<prefix>:cooldowns`, field = cooldown key (backend:deployment), value = "<until_ms> <kind>",
 * and field = `lo:<cooldown key>` for a low-priority block (reserve-store.ts), value = "<probe_at_ms> <below> <value>";
 * one key per response `<prefix>:af:<response id>` = backend, expiring with affinity_ttl_s.
 */
import * as core from "apisix.core";
import * as redisModule from "resty.redis";
import type { OutcomeKind } from "../lib/outcome";
import { cool, SHARED_DICT } from "./cooldown-store";
import { adoptBlock } from "./reserve-store";
import { countRedisError } from "./metrics";
import type { FailoverConf } from "./schema";

type RedisConf = NonNullable<FailoverConf["redis"]>;

const SYNC_INTERVAL_S = 1;
const KEEPALIVE_MS = 10000;
const POOL_SIZE = 16;
/** How long a node leaves a failing Redis alone on the request path; the sync timer's probe ends it sooner. */
const DOWN_S = 10;
/** At most one Redis warning per node per this many seconds (the count of the others goes in the next one). */
const REPORT_INTERVAL_S = 30;
const REPORT_KEY = "rd:report";
const QUIET_KEY = "rd:quiet";

const find = string.find;
const sub = string.sub;
const ngxNow = ngx.now;

function dict(this: void): NgxSharedDict | undefined {
  return ngx.shared[SHARED_DICT];
}

/** The shared-dict key that marks this Redis down; cached on the conf table (replaced with the route's conf). */
function downKey(this: void, conf: RedisConf): string {
  const raw = conf as unknown as LuaTable<string, unknown>;
  let key = raw.get("_down_key") as string | undefined;
  if (key === undefined) {
    key = `rd:down:${conf.host}:${conf.port}`;
    raw.set("_down_key", key);
  }
  return key;
}

/** Redis failed recently on this node: leave it to the sync timer's probe. */
export function redisDown(this: void, conf: RedisConf): boolean {
  const shared = dict();
  if (shared === undefined) return false;
  const [down] = shared.get(downKey(conf));
  return down !== undefined;
}

/** Without the shared dict (a misconfiguration init() already warns about), each worker reports on its own. */
let lastWorkerReport = -REPORT_INTERVAL_S;

/** One warning per node per REPORT_INTERVAL_S; the failures in between are counted into the next one. */
function report(this: void, what: string, err: unknown): void {
  const shared = dict();
  if (shared === undefined) {
    const now = ngxNow();
    if (now - lastWorkerReport < REPORT_INTERVAL_S) return;
    lastWorkerReport = now;
    core.log.warn("spillway-failover: redis unavailable (", what, ": ", err, "); state stays per node");
    return;
  }
  const [first] = shared.add(REPORT_KEY, true, REPORT_INTERVAL_S);
  if (!first) {
    shared.incr(QUIET_KEY, 1, 0);
    core.log.info("spillway-failover: redis unavailable (", what, ": ", err, "), reported once per ", REPORT_INTERVAL_S, " s");
    return;
  }
  const [quiet] = shared.get(QUIET_KEY);
  shared.delete(QUIET_KEY);
  core.log.warn("spillway-failover: redis unavailable (", what, ": ", err, "); cooldowns and response affinity stay ",
    "per node until it answers; ", typeof quiet === "number" ? quiet : 0, " more redis failures in the last ",
    REPORT_INTERVAL_S, " s, reported once per ", REPORT_INTERVAL_S, " s");
}

function markDown(this: void, conf: RedisConf, operation: string, what: string, err: unknown): void {
  dict()?.set(downKey(conf), true, DOWN_S);
  countRedisError(operation);
  report(what, err);
}

/**
 * The same mark, for a Redis another plugin uses (ai-rate-limiting's counters, budget-patch.ts): when it is the
 * Redis of the cooldowns, the sync timer's probe lifts the mark as soon as it answers; otherwise after DOWN_S.
 */
export function redisDownAt(this: void, host: string, port: number): boolean {
  const shared = dict();
  if (shared === undefined) return false;
  const [down] = shared.get(`rd:down:${host}:${port}`);
  return down !== undefined;
}

export function markRedisDownAt(this: void, host: string, port: number, what: string, operation: string): void {
  dict()?.set(`rd:down:${host}:${port}`, true, DOWN_S);
  countRedisError(operation);
  report(what, "no answer");
}

function markUp(this: void, conf: RedisConf): void {
  const shared = dict();
  if (shared === undefined) return;
  const key = downKey(conf);
  const [down] = shared.get(key);
  if (down === undefined) return;
  shared.delete(key);
  core.log.warn("spillway-failover: redis answers again; cooldowns and response affinity are shared again");
}

export function connect(this: void, conf: RedisConf): LuaMultiReturn<[RestyRedis] | [undefined, string]> {
  const [red, err] = redisModule.newRedis();
  if (red === undefined) return $multi(undefined, `failed to create redis client: ${err}`);
  red.set_timeout(conf.timeout_ms);
  const [ok, connectErr] = red.connect(conf.host, conf.port, { ssl: conf.ssl });
  if (ok === undefined) return $multi(undefined, `failed to connect to redis: ${connectErr}`);
  const [reused] = red.get_reused_times();
  if (reused === 0) {
    if (conf.password !== undefined && conf.password !== "") {
      const [authed, authErr] = red.auth(conf.password);
      if (failed(authed)) {
        red.close();
        return $multi(undefined, `failed to authenticate to redis: ${authErr}`);
      }
    }
    if (conf.database !== 0) {
      const [selected, selectErr] = red.select(conf.database);
      if (failed(selected)) {
        red.close();
        return $multi(undefined, `failed to select redis database: ${selectErr}`);
      }
    }
  }
  return $multi(red);
}

/**
 * After a command: back to the pool when it answered, closed when it failed. A timed-out connection may still
 * carry the late reply, which the next user of a pooled connection would read as its own.
 */
function release(this: void, red: RestyRedis, ok: boolean): void {
  if (ok) red.set_keepalive(KEEPALIVE_MS, POOL_SIZE);
  else red.close();
}

/** A command's first value when it failed: nil (connection: timeout, closed) or false (an error reply: NOAUTH, ...). */
function failed(this: void, first: unknown): boolean {
  return first === undefined || first === false;
}

function hashKey(this: void, conf: RedisConf): string {
  return `${conf.prefix}:cooldowns`;
}

function push(this: void, premature: boolean, conf: RedisConf, key: string, value: string): void {
  if (premature) return;
  const [red, err] = connect(conf);
  if (red === undefined) {
    markDown(conf, "cooldown_push", "cooldown not shared with other replicas", err);
    return;
  }
  const [ok, hsetErr] = red.hset(hashKey(conf), key, value);
  release(red, !failed(ok));
  if (failed(ok)) markDown(conf, "cooldown_push", "cooldown not shared with other replicas: failed to push it to redis", hsetErr);
}

function pushAffinity(this: void, premature: boolean, conf: RedisConf, id: string, backend: string, ttl: number): void {
  if (premature) return;
  const [red, err] = connect(conf);
  if (red === undefined) {
    markDown(conf, "affinity_push", "response affinity not shared with other replicas", err);
    return;
  }
  const [ok, setErr] = red.set(`${conf.prefix}:af:${id}`, backend, "EX", ttl);
  release(red, !failed(ok));
  if (failed(ok)) markDown(conf, "affinity_push", "response affinity not shared with other replicas: failed to push it to redis", setErr);
}

/** Shares which backend holds a response, without delaying the request (nothing while Redis is marked down). */
export function shareAffinity(this: void, conf: RedisConf, id: string, backend: string, ttl: number): void {
  if (redisDown(conf)) return;
  const [ok, err] = ngx.timer.at(0, pushAffinity, conf, id, backend, ttl);
  if (ok === undefined) report("failed to schedule the redis push", err);
}

/** Shares a new cooldown with the other replicas, without delaying the request (nothing while Redis is marked down). */
export function shareCooldown(this: void, conf: RedisConf, key: string, untilMs: number, kind: OutcomeKind): void {
  if (redisDown(conf)) return;
  const [ok, err] = ngx.timer.at(0, push, conf, key, `${string.format("%d", untilMs)} ${kind}`);
  if (ok === undefined) report("failed to schedule the redis push", err);
}

/** The shared-dict key of the preferred-backends order (preference.ts), which the pull also keeps in step. */
export const PREFERENCE_KEY = "pref";

function pushPreference(this: void, premature: boolean, conf: RedisConf, list: string, ttl: number): void {
  if (premature) return;
  const [red, err] = connect(conf);
  if (red === undefined) {
    markDown(conf, "preference_push", "preferred backends not shared with other replicas", err);
    return;
  }
  const [ok, setErr] = red.set(`${conf.prefix}:pref`, list, "EX", ttl);
  release(red, !failed(ok));
  if (failed(ok)) markDown(conf, "preference_push", "preferred backends not shared with other replicas: failed to push them to redis", setErr);
}

/** Shares the preferred-backends order with the other replicas (preference.ts). */
export function sharePreference(this: void, conf: RedisConf, list: string, ttl: number): void {
  const [ok, err] = ngx.timer.at(0, pushPreference, conf, list, ttl);
  if (ok === undefined) report("failed to schedule the redis push", err);
}

/** Shares a backend's low-priority block (reserve-store.ts) with the other replicas, like a cooldown. */
export function shareLowBlock(this: void, conf: RedisConf, key: string, value: string): void {
  if (redisDown(conf)) return;
  const [ok, err] = ngx.timer.at(0, push, conf, `lo:${key}`, value);
  if (ok === undefined) report("failed to schedule the redis push", err);
}

/**
 * The backend another replica recorded for a response id: one round trip on the request path, only for a follow-up
 * the shared dict could not answer, and none while Redis is marked down. Nothing (fail open) on any Redis trouble.
 */
export function fetchAffinity(this: void, conf: RedisConf, id: string): string | undefined {
  if (redisDown(conf)) return undefined;
  const [red, err] = connect(conf);
  if (red === undefined) {
    markDown(conf, "affinity_read", "cannot read response affinity from redis", err);
    return undefined;
  }
  const [value, getErr] = red.get(`${conf.prefix}:af:${id}`);
  release(red, !failed(value));
  if (failed(value)) {
    markDown(conf, "affinity_read", "failed to read response affinity from redis", getErr);
    return undefined;
  }
  return typeof value === "string" ? value : undefined;
}

/**
 * One worker per node per interval pulls the replicas' cooldowns. Also the probe of a Redis marked down: it runs
 * whatever the mark (in a timer, no request waits for it) and lifts the mark when Redis answers.
 */
function pull(this: void, premature: boolean, conf: RedisConf, first?: boolean): void {
  if (premature) return;
  // One worker per node pulls; the shared dict carries the result to the others.
  const shared = ngx.shared[SHARED_DICT];
  if (shared === undefined) return;
  const [leader] = shared.add("sync-lock", true, SYNC_INTERVAL_S * 0.9);
  if (!leader && first !== true) return;

  const [red, err] = connect(conf);
  if (red === undefined) {
    markDown(conf, "cooldown_pull", "cannot read other replicas' cooldowns", err);
    return;
  }
  const [entries, hgetErr] = red.hgetall(hashKey(conf));
  if (entries === undefined || entries === false) {
    red.close();
    markDown(conf, "cooldown_pull", "failed to read cooldowns from redis", hgetErr);
    return;
  }
  markUp(conf);
  const now = ngxNow() * 1000;
  const stale: string[] = [];
  for (let i = 0; i + 1 < entries.length; i += 2) {
    const key = entries[i]!;
    const value = entries[i + 1]!;
    const [space] = find(value, " ", 1, true);
    const until = space !== undefined ? tonumber(sub(value, 1, space - 1)) : undefined;
    if (until === undefined || space === undefined || until <= now) stale.push(key);
    else if (sub(key, 1, 3) === "lo:") adoptBlock(sub(key, 4), value, now);
    else cool(key, until, sub(value, space + 1) as OutcomeKind, now);
  }
  let ok = true;
  if (stale.length > 0) {
    const [deleted] = red.hdel(hashKey(conf), ...stale);
    ok = !failed(deleted);
  }
  // The preferred-backends order another replica was given (preference.ts), kept as long as Redis keeps it.
  if (ok) {
    const [preference] = red.get(`${conf.prefix}:pref`);
    if (typeof preference === "string") {
      const [current] = shared.get(PREFERENCE_KEY);
      if (current !== preference) {
        const [ttl] = red.ttl(`${conf.prefix}:pref`);
        shared.set(PREFERENCE_KEY, preference, typeof ttl === "number" && ttl > 0 ? ttl : 60);
      }
    } else if (preference === undefined) {
      ok = false;
    }
  }
  release(red, ok);
}

let syncing = false;

/**
 * Starts this worker's pull timer once, at the first request of a route with `redis` set. That request pulls
 * once itself (one Redis round trip per worker lifetime, skipped while Redis is marked down), so a fresh replica
 * does not call a backend the others already know is throttled.
 */
export function ensureSync(this: void, conf: RedisConf): void {
  if (syncing) return;
  syncing = true;
  if (!redisDown(conf)) {
    // On the request path: a Lua error in it must not become the client's 500.
    const [ok, err] = pcall(pull, false, conf, true);
    if (!ok) core.log.error("spillway-failover: the first redis cooldown pull failed: ", err);
  }
  const [ok, err] = ngx.timer.every(SYNC_INTERVAL_S, pull, conf);
  if (ok === undefined) {
    syncing = false;
    core.log.error("spillway-failover: failed to start the redis cooldown sync: ", err);
  }
}
