/**
 * OpenTelemetry collector config (otel/opentelemetry-collector-contrib), rendered only when telemetry is on.
 * The collector runs next to the gateway: it receives APISIX's OTLP/HTTP traces, scrapes the Prometheus exporter,
 * and ships both to Azure Monitor. Secrets stay out of the file: the connection string is an ${env:...} reference
 * the collector resolves from its own environment.
 */
import type { Settings } from "./settings.ts";

export function buildOtelCollector(settings: Settings): Record<string, unknown> | undefined {
  const t = settings.telemetry;
  if (!t) return undefined;
  const receiverPort = t.collectorAddress.split(":").at(-1);
  const exporters: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = { health_check: {} };
  const traceExporters: string[] = [];
  const metricExporters: string[] = [];
  if (t.appInsights) {
    exporters.azuremonitor = { connection_string: "${env:APPLICATIONINSIGHTS_CONNECTION_STRING}" };
    traceExporters.push("azuremonitor");
  }
  if (t.monitorWorkspaceEndpoint) {
    extensions.azureauth = { managed_identity: { client_id: "${env:AZURE_CLIENT_ID}" }, scopes: ["https://monitor.azure.com/.default"] };
    exporters.prometheusremotewrite = { endpoint: t.monitorWorkspaceEndpoint, auth: { authenticator: "azureauth" } };
    metricExporters.push("prometheusremotewrite");
  } else if (t.appInsights) {
    metricExporters.push("azuremonitor");
  }
  // A pipeline without an exporter is an invalid collector config: fall back to the debug exporter.
  if (t.debugExporter || traceExporters.length === 0 || metricExporters.length === 0) {
    exporters.debug = { verbosity: "basic" };
    if (t.debugExporter || traceExporters.length === 0) traceExporters.push("debug");
    if (t.debugExporter || metricExporters.length === 0) metricExporters.push("debug");
  }
  const rt = settings.runtime;
  const metricsHost = rt.metricsHost === "0.0.0.0" ? "127.0.0.1" : rt.metricsHost;
  return {
    receivers: {
      otlp: { protocols: { http: { endpoint: `0.0.0.0:${receiverPort}` } } },
      prometheus: {
        config: {
          scrape_configs: [
            {
              job_name: t.serviceName,
              scrape_interval: "30s",
              metrics_path: "/apisix/prometheus/metrics",
              static_configs: [{ targets: [`${metricsHost}:${rt.metricsPort}`] }],
            },
          ],
        },
      },
    },
    processors: {
      memory_limiter: { check_interval: "1s", limit_mib: 512, spike_limit_mib: 128 },
      batch: { timeout: "10s", send_batch_size: 1024 },
    },
    exporters,
    extensions,
    service: {
      extensions: Object.keys(extensions),
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: traceExporters },
        metrics: { receivers: ["prometheus"], processors: ["memory_limiter", "batch"], exporters: metricExporters },
      },
    },
  };
}
