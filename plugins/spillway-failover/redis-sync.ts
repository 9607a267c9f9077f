/**
 * Cooldowns shared by every gateway replica through Redis (optional). The request path never waits for Redis:
 * a new cooldown is pushed from a zero-delay timer, and one worker per node pulls the replicas' cooldowns into
 * the shared dict every SYNC_INTERVAL_S. A replica therefore learns of another's 429 within about a second, and
 * a Redis outage only means cooldowns stay per node (logged, never a failed request).
 *
 * Redis layout: one hash `<prefix>:cooldowns`, field = cooldown key (backend:deployment), value = "<until_ms> <kind>".
 */
import * as core from "apisix.core";
import * as redisModule from "resty.redis";
import type { OutcomeKind } from "../lib/outcome";
import { cool, SHARED_DICT } from "./cooldown-store";
import type { FailoverConf } from "./schema";

type RedisConf = NonNullable<FailoverConf["redis"]>;

const SYNC_INTERVAL_S = 1;
const KEEPALIVE_MS = 10000;
const POOL_SIZE = 16;

const find = string.find;
const sub = string.sub;
const ngxNow = ngx.now;

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
      if (authed === undefined) return $multi(undefined, `failed to authenticate to redis: ${authErr}`);
    }
    if (conf.database !== 0) {
      const [selected, selectErr] = red.select(conf.database);
      if (selected === undefined) return $multi(undefined, `failed to select redis database: ${selectErr}`);
    }
  }
  return $multi(red);
}

function hashKey(this: void, conf: RedisConf): string {
  return `${conf.prefix}:cooldowns`;
}

function push(this: void, premature: boolean, conf: RedisConf, key: string, value: string): void {
  if (premature) return;
  const [red, err] = connect(conf);
  if (red === undefined) {
    core.log.warn("spillway-failover: cooldown not shared with other replicas: ", err);
    return;
  }
  const [ok, hsetErr] = red.hset(hashKey(conf), key, value);
  if (ok === undefined) core.log.warn("spillway-failover: failed to push cooldown to redis: ", hsetErr);
  red.set_keepalive(KEEPALIVE_MS, POOL_SIZE);
}

function pushAffinity(this: void, premature: boolean, conf: RedisConf, id: string, backend: string, ttl: number): void {
  if (premature) return;
  const [red, err] = connect(conf);
  if (red === undefined) {
    core.log.warn("spillway-failover: response affinity not shared with other replicas: ", err);
    return;
  }
  const [ok, setErr] = red.set(`${conf.prefix}:af:${id}`, backend, "EX", ttl);
  if (ok === undefined) core.log.warn("spillway-failover: failed to push response affinity to redis: ", setErr);
  red.set_keepalive(KEEPALIVE_MS, POOL_SIZE);
}

/** Shares which backend holds a response, without delaying the request. */
export function shareAffinity(this: void, conf: RedisConf, id: string, backend: string, ttl: number): void {
  const [ok, err] = ngx.timer.at(0, pushAffinity, conf, id, backend, ttl);
  if (ok === undefined) core.log.warn("spillway-failover: failed to schedule the redis push: ", err);
}

/** The backend another replica recorded for a response id (one round trip; only for follow-up requests). */
export function fetchAffinity(this: void, conf: RedisConf, id: string): string | undefined {
  const [red, err] = connect(conf);
  if (red === undefined) {
    core.log.warn("spillway-failover: cannot read response affinity from redis: ", err);
    return undefined;
  }
  const [value, getErr] = red.get(`${conf.prefix}:af:${id}`);
  if (value === undefined) core.log.warn("spillway-failover: failed to read response affinity from redis: ", getErr);
  red.set_keepalive(KEEPALIVE_MS, POOL_SIZE);
  return typeof value === "string" ? value : undefined;
}

/** Shares a new cooldown with the other replicas, without delaying the request. */
export function shareCooldown(this: void, conf: RedisConf, key: string, untilMs: number, kind: OutcomeKind): void {
  const [ok, err] = ngx.timer.at(0, push, conf, key, `${string.format("%d", untilMs)} ${kind}`);
  if (ok === undefined) core.log.warn("spillway-failover: failed to schedule the redis push: ", err);
}

function pull(this: void, premature: boolean, conf: RedisConf, first?: boolean): void {
  if (premature) return;
  // One worker per node pulls; the shared dict carries the result to the others.
  const shared = ngx.shared[SHARED_DICT];
  if (shared === undefined) return;
  const [leader] = shared.add("sync-lock", true, SYNC_INTERVAL_S * 0.9);
  if (!leader && first !== true) return;

  const [red, err] = connect(conf);
  if (red === undefined) {
    core.log.warn("spillway-failover: cannot read other replicas' cooldowns: ", err);
    return;
  }
  const [entries, hgetErr] = red.hgetall(hashKey(conf));
  if (entries === undefined) {
    core.log.warn("spillway-failover: failed to read cooldowns from redis: ", hgetErr);
    red.close();
    return;
  }
  const now = ngxNow() * 1000;
  const stale: string[] = [];
  for (let i = 0; i + 1 < entries.length; i += 2) {
    const key = entries[i]!;
    const value = entries[i + 1]!;
    const [space] = find(value, " ", 1, true);
    const until = space !== undefined ? tonumber(sub(value, 1, space - 1)) : undefined;
    if (until === undefined || space === undefined || until <= now) stale.push(key);
    else cool(key, until, sub(value, space + 1) as OutcomeKind, now);
  }
  if (stale.length > 0) red.hdel(hashKey(conf), ...stale);
  red.set_keepalive(KEEPALIVE_MS, POOL_SIZE);
}

let syncing = false;

/**
 * Starts this worker's pull timer once, at the first request of a route with `redis` set. That request pulls
 * once itself (one Redis round trip per worker lifetime), so a fresh replica does not call a backend the others
 * already know is throttled.
 */
export function ensureSync(this: void, conf: RedisConf): void {
  if (syncing) return;
  syncing = true;
  pull(false, conf, true);
  const [ok, err] = ngx.timer.every(SYNC_INTERVAL_S, pull, conf);
  if (ok === undefined) {
    syncing = false;
    core.log.error("spillway-failover: failed to start the redis cooldown sync: ", err);
  }
}
