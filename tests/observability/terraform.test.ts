/**
 * 05-observability creates the alert rules from apisix/observability/alerts.yaml (one source), on the Azure Monitor
 * workspace of the same stack. Static, like tests/terraform: the stack parsed with hcl2json.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ALERTS_FILE } from "../../scripts/observability/dashboard.ts";
import { expressions, listTfDirs, loadDir, type Block, type TfDir } from "../terraform/hcl.ts";

let stack: TfDir;
let group: Block;

beforeAll(async () => {
  stack = await loadDir(listTfDirs().find((d) => d.name === "05-observability")!);
  group = stack.resources.get("azurerm_monitor_alert_prometheus_rule_group.spillway")!;
});

/** The value of one local as hcl2json writes it: an interpolated string, or an object for a literal map. */
function local(name: string): unknown {
  for (const f of stack.files) for (const list of (f.json.locals as Block[] | undefined) ?? []) if (name in list) return list[name];
  throw new Error(`local.${name} is not declared`);
}

/** The one block of a kind (hcl2json writes blocks as lists). */
function only(block: Block, key: string): Block {
  const list = block[key] as Block[] | undefined;
  expect(list, key).toHaveLength(1);
  return list![0]!;
}

/** The one `dynamic "<name>"` block. */
function dynamic(block: Block, name: string): Block {
  return only(block.dynamic as Block, name);
}

describe("05-observability alert rule groups", () => {
  it("declares one rule group per group of alerts.yaml on the stack's Azure Monitor workspace", () => {
    expect(group).toBeDefined();
    expect(group.for_each).toBe("${local.alert_groups}");
    expect(group.scopes).toEqual(["${azurerm_monitor_workspace.this.id}"]);
    expect(group.resource_group_name).toBe("${azurerm_resource_group.observability.name}");
    expect(group.tags).toBe("${local.tags}");
    expect(group.rule_group_enabled).toBe("${var.alerts_enabled}");
  });

  it("reads the groups from apisix/observability/alerts.yaml with yamldecode(file(…)), a path that exists", () => {
    const value = String(local("alert_groups"));
    const m = /yamldecode\(file\("\$\{path\.module\}\/([^"]+)"\)\)\.groups/.exec(value);
    expect(m, value).not.toBeNull();
    const stackDir = path.dirname(stack.files[0]!.file);
    expect(path.resolve(stackDir, m![1]!)).toBe(ALERTS_FILE);
    expect(existsSync(ALERTS_FILE)).toBe(true);
  });

  it("maps every rule field: alert, expression, for and interval as ISO 8601, severity, labels, annotations", () => {
    const rule = dynamic(group, "rule");
    const content = only(rule, "content");
    expect(rule.for_each).toBe("${each.value.rules}");
    expect(content).toMatchObject({
      alert: "${rule.value.alert}",
      expression: "${rule.value.expr}",
      for: "PT${upper(rule.value.for)}",
      severity: "${local.alert_severity[rule.value.labels.severity]}",
      labels: "${rule.value.labels}",
      annotations: "${rule.value.annotations}",
    });
    expect(group.interval).toBe("PT${upper(each.value.interval)}");
    expect(only(content, "alert_resolution").auto_resolved).toBe(true);
    const action = dynamic(content, "action");
    expect(only(action, "content").action_group_id).toBe("${action.value}");
    expect(action.for_each).toBe("${var.alert_action_group_ids}");
  });

  it("knows an Azure severity for every severity label alerts.yaml uses", () => {
    const severities = local("alert_severity") as Record<string, number>;
    const file = parse(readFileSync(ALERTS_FILE, "utf8")) as { groups: { rules: { labels: { severity: string } }[] }[] };
    for (const r of file.groups.flatMap((g) => g.rules)) expect(severities[r.labels.severity], r.labels.severity).toBeOneOf([0, 1, 2, 3, 4]);
  });

  it("adds only optional variables, each with a default", () => {
    for (const name of ["alert_action_group_ids", "alerts_enabled"]) expect("default" in stack.variables.get(name)!, name).toBe(true);
    expect(expressions(group).join("\n")).not.toMatch(/var\.(?!alerts_enabled|alert_action_group_ids|workload_name|environment)/);
  });
});
