// The built edge in workerd (miniflare) or under `jco serve` (the Spin build), a counting proxy
// in front of core, and a Mastodon API client that registers users the way
// core/server/tests/it/main.rs does, over HTTP.

import http from "node:http";
import net from "node:net";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where wasm-tests/workers/build.sh puts the worker. */
export const BUILD_DIR = process.env.STARLING_WORKER_BUILD_DIR ?? path.resolve(here, "../../edge/workers/build");

/** The Spin build that imports only standard WASI 0.2 (wasm-tests/spin/build.sh). */
export const SPIN_WASM = process.env.STARLING_SPIN_WASM ?? path.resolve(here, "../../edge/spin/build/edge_spin_wasi.wasm");

/** The same as edge/workers/wrangler.toml. */
export const COMPATIBILITY_DATE = "2026-04-20";

/** The password every test user signs up with. */
export const PASSWORD = "correct horse battery";

/** An environment variable the test cannot run without: failing loudly beats skipping. */
export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run wasm-tests/workers/run.sh, which starts core`);
  return value;
}

/**
 * The edge worker in workerd, listening on 127.0.0.1. `vars` become Workers vars (strings);
 * `kvPersist` (a directory) backs its KV namespace on disk instead of in memory.
 * Returns { url, dispose }.
 */
export async function startEdge(vars, { port = 0, kvPersist } = {}) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(BUILD_DIR, "worker.js"),
    modulesRoot: BUILD_DIR,
    // Without an ESModule rule for .js, miniflare reads imported .js files as CommonJS.
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    kvNamespaces: ["EDGE_KV"],
    // A directory shares one KV namespace between instances (separate isolates, like two PoPs).
    ...(kvPersist ? { kvPersist } : {}),
    bindings: vars,
    host: "127.0.0.1",
    port,
  });
  return ready(mf);
}

/** Waits for a Miniflare instance; disposes of it (its workerd process) when it fails to start. */
async function ready(mf) {
  try {
    const url = (await mf.ready).toString().replace(/\/$/, "");
    return { url, dispose: () => mf.dispose() };
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/**
 * The Spin build of the edge served by `jco serve` (a WASI 0.2 HTTP host in Node) on 127.0.0.1,
 * configured by environment variables. Returns { url, dispose }.
 */
export async function startSpinEdge(env) {
  const port = await freePort();
  const jco = path.resolve(here, "../node_modules/.bin/jco");
  // Its own process group: jco serve's child outlives it otherwise.
  const child = spawn(jco, ["serve", "--host", "127.0.0.1", "--port", String(port), SPIN_WASM], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (d) => { output += d; });
  child.stderr.on("data", (d) => { output += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jco serve exited (${child.exitCode}): ${output}`);
    try {
      await fetch(`${url}/health`);
      break;
    } catch {
      if (Date.now() > deadline) {
        process.kill(-child.pid, "SIGKILL");
        throw new Error(`jco serve did not answer within 60 s: ${output}`);
      }
      await sleep(100);
    }
  }
  return {
    url,
    output: () => output,
    dispose: async () => {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      await new Promise((resolve) => {
        if (child.exitCode !== null) resolve();
        else child.once("exit", resolve);
        setTimeout(resolve, 2000);
      });
    },
  };
}

/** A trivial worker answering every request with a constant: the benchmark's floor. */
export async function startStaticWorker({ port = 0 } = {}) {
  const mf = new Miniflare({
    modules: true,
    script: `export default { fetch() { return new Response('{"ok":true}', { headers: { "content-type": "application/json" } }); } };`,
    compatibilityDate: COMPATIBILITY_DATE,
    host: "127.0.0.1",
    port,
  });
  return ready(mf);
}


/**
 * An HTTP proxy to `target` that records every request core receives (method, path, the
 * authorization header, body bytes), so a test can prove what did — and did not — reach core.
 */
export async function countingProxy(target) {
  const seen = [];
  const seenHeaders = [];
  const server = http.createServer((req, res) => {
    const entry = { method: req.method, url: req.url, path: req.url.split("?")[0], auth: req.headers.authorization ?? null, bodyBytes: 0 };
    seen.push(entry);
    seenHeaders.push(req.headers);
    req.on("data", (chunk) => { entry.bodyBytes += chunk.length; });
    const upstream = http.request(new URL(req.url, target), { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", (e) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${e.message}`);
    });
    req.pipe(upstream);
  });
  // Upgrades (WebSocket) pass through as raw bytes, recorded like other requests.
  const sockets = new Set();
  server.on("upgrade", (req, socket, head) => {
    seen.push({ method: req.method, url: req.url, path: req.url.split("?")[0], auth: req.headers.authorization ?? null, bodyBytes: 0, upgrade: true, headers: req.headers });
    const target_ = new URL(target);
    const upstream = net.connect(Number(target_.port), target_.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join("\r\n") + "\r\n\r\n");
      if (head?.length) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    sockets.add(socket).add(upstream);
    const end = () => { socket.destroy(); upstream.destroy(); };
    socket.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    /** The headers of each plain (not upgraded) request, in order. */
    seenHeaders,
    /** Requests core received for `method path` (and, when given, this bearer token). */
    count(method, pathname, token) {
      return seen.filter((e) => e.method === method && e.path === pathname && (token === undefined || e.auth === `Bearer ${token}`)).length;
    },
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.closeAllConnections(); server.close(resolve); }),
  };
}

let nextAddress = 1;

/** A client address nobody else in this run uses (the edge limits per address). */
export function freshAddress() {
  const n = nextAddress++;
  return `198.51.${100 + (n >> 8)}.${n & 255}`;
}

/** A decoded response. */
export class Reply {
  constructor(status, headers, body) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /** Asserts the status, returning the body. */
  expect(status) {
    if (this.status !== status) {
      throw new Error(`expected ${status}, got ${this.status}: ${JSON.stringify(this.body)}`);
    }
    return this.body;
  }
}

/** Mastodon API calls against `base` (an edge or core), from one client address. */
export class Client {
  constructor(base, address = freshAddress()) {
    this.base = base;
    this.address = address;
  }

  async request(method, pathname, { token, json, headers = {} } = {}) {
    const init = { method, redirect: "manual", headers: { "cf-connecting-ip": this.address, ...headers } };
    if (token) init.headers.authorization = `Bearer ${token}`;
    if (json !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = typeof json === "string" ? json : JSON.stringify(json);
    }
    const res = await fetch(this.base + pathname, init);
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return new Reply(res.status, res.headers, body);
  }

  get(pathname, token) {
    return this.request("GET", pathname, { token });
  }

  post(pathname, token, json) {
    return this.request("POST", pathname, { token, json });
  }

  /** Signs up a user with full scopes, as core/server/tests/it/main.rs does. */
  async register(username, scopes = "read write follow") {
    const app = (await this.post("/api/v1/apps", null, { client_name: "tests", redirect_uris: "urn:ietf:wg:oauth:2.0:oob", scopes })).expect(200);
    const appToken = (await this.post("/oauth/token", null, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret, scope: scopes })).expect(200);
    const signUp = (await this.post("/api/v1/accounts", appToken.access_token, { username, email: `${username}@example.org`, password: PASSWORD, agreement: true })).expect(200);
    const me = (await this.get("/api/v1/accounts/verify_credentials", signUp.access_token)).expect(200);
    return { id: me.id, username, token: signUp.access_token, clientId: app.client_id, clientSecret: app.client_secret };
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A minimal WebSocket client (Node 20 has none built in): opens `url` (http:// or ws://) with the
 * handshake, and returns { status, headers, body, nextText(ms), send(obj), close() } —
 * `status` 101 when upgraded, otherwise the refusal's status, headers and body text.
 */
export function openWebSocket(url, { headers = {}, protocols } = {}) {
  const target = new URL(url.replace(/^ws/, "http"));
  const key = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256))).toString("base64");
  const extra = { ...headers };
  if (protocols) extra["sec-websocket-protocol"] = protocols;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": key, ...extra },
    });
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`no handshake answer from ${url} within 10 s`)); }, 10_000);
    req.on("error", (e) => { clearTimeout(timer); reject(e); });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => { clearTimeout(timer); resolve({ status: res.statusCode, headers: res.headers, body }); });
    });
    req.on("upgrade", (res, socket, head) => {
      clearTimeout(timer);
      let buffer = Buffer.from(head ?? []);
      const texts = [];
      const waiters = [];
      const deliver = () => {
        while (texts.length && waiters.length) waiters.shift()(texts.shift());
      };
      socket.on("data", (chunk) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          if (buffer.length < 2) return;
          const opcode = buffer[0] & 0x0f;
          let len = buffer[1] & 0x7f;
          let offset = 2;
          if (len === 126) { if (buffer.length < 4) return; len = buffer.readUInt16BE(2); offset = 4; }
          else if (len === 127) { if (buffer.length < 10) return; len = Number(buffer.readBigUInt64BE(2)); offset = 10; }
          if (buffer.length < offset + len) return;
          const payload = buffer.subarray(offset, offset + len);
          buffer = buffer.subarray(offset + len);
          if (opcode === 1) texts.push(payload.toString("utf8"));
        }
      });
      socket.on("data", deliver);
      const frame = (text) => {
        const data = Buffer.from(text);
        const mask = Buffer.from([1, 2, 3, 4]);
        const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
        const len = data.length;
        const header = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.concat([Buffer.from([0x81, 0x80 | 126]), Buffer.from([len >> 8, len & 255])]);
        return Buffer.concat([header, mask, masked]);
      };
      resolve({
        status: res.statusCode,
        headers: res.headers,
        body: "",
        /** The next text message, parsed as JSON when it is JSON. */
        nextText(ms = 10_000) {
          return new Promise((ok, fail) => {
            const waiter = (text) => { clearTimeout(t); ok(text); };
            const t = setTimeout(() => {
              waiters.splice(waiters.indexOf(waiter), 1);
              fail(new Error(`no WebSocket message within ${ms} ms`));
            }, ms);
            waiters.push(waiter);
            deliver();
          });
        },
        send(obj) { socket.write(frame(typeof obj === "string" ? obj : JSON.stringify(obj))); },
        close() { socket.destroy(); },
      });
    });
    req.end();
  });
}
