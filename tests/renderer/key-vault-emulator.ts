/**
 * TEST CODE. A local HTTPS emulator of the Key Vault secrets REST API, enough for the real @azure/keyvault-secrets
 * client: challenge-based auth (an unauthenticated request gets 401 + WWW-Authenticate naming the tenant and the
 * vault resource), paged secret listing, get secret. The certificate is self-signed, made at test time with the
 * openssl CLI; clients trust it through their own TLS options (never process-wide).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";

export interface EmulatedSecret {
  name: string;
  value: string;
  enabled?: boolean;
}

export interface KeyVaultEmulator {
  url: string;
  ca: string;
  /** Requests seen: method, path, whether they carried a bearer token. */
  requests: { method: string; path: string; token: string | undefined }[];
  setSecrets(secrets: EmulatedSecret[]): void;
  /** Answer every authenticated request with this status (e.g. 403) instead of data. */
  failWith(status: number | undefined): void;
  stop(): Promise<void>;
}

export const EMULATOR_TOKEN = "fake-aad-token";
const TENANT = "72f988bf-0000-0000-0000-000000000000";

export function makeCertificate(dir: string): { key: string; cert: string } {
  const key = path.join(dir, "kv.key");
  const cert = path.join(dir, "kv.crt");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert,
  ], { stdio: "ignore" });
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
}

export async function startKeyVaultEmulator(dir: string, pageSize = 2): Promise<KeyVaultEmulator> {
  const { key, cert } = makeCertificate(dir);
  let secrets: EmulatedSecret[] = [];
  let failStatus: number | undefined;
  const requests: KeyVaultEmulator["requests"] = [];
  let base = "";

  const server: Server = createServer({ key, cert }, (req, res) => {
    const url = new URL(req.url ?? "/", base);
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
    requests.push({ method: req.method ?? "", path: url.pathname, token });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(body));
    };
    if (token === undefined) {
      send(401, { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } }, {
        "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`,
      });
      return;
    }
    if (token !== EMULATOR_TOKEN) return send(401, { error: { code: "Unauthorized", message: "bad token" } });
    if (failStatus !== undefined) return send(failStatus, { error: { code: "Forbidden", message: "Caller is not authorized to perform action on resource." } });
    const parts = url.pathname.split("/").filter((p) => p !== "");
    if (req.method === "GET" && parts.length === 1 && parts[0] === "secrets") {
      const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
      const page = secrets.slice(skip, skip + pageSize);
      const more = skip + pageSize < secrets.length;
      return send(200, {
        value: page.map((s) => ({ id: `${base}/secrets/${s.name}`, attributes: { enabled: s.enabled !== false, created: 1700000000, updated: 1700000000, recoveryLevel: "Recoverable" } })),
        nextLink: more ? `${base}/secrets?api-version=${url.searchParams.get("api-version")}&$skiptoken=${skip + pageSize}` : null,
      });
    }
    if (req.method === "GET" && parts[0] === "secrets" && parts.length >= 2) {
      const secret = secrets.find((s) => s.name === parts[1]);
      if (!secret) return send(404, { error: { code: "SecretNotFound", message: `A secret with (name/id) ${parts[1]} was not found in this key vault.` } });
      return send(200, { value: secret.value, id: `${base}/secrets/${secret.name}/0123456789abcdef`, attributes: { enabled: secret.enabled !== false } });
    }
    send(404, { error: { code: "NotFound", message: "no such route in the emulator" } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    ca: cert,
    requests,
    setSecrets: (list) => (secrets = list),
    failWith: (status) => (failStatus = status),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
