/**
 * The placeholder API as a real process on a loopback port: the WebSocket at /ws (handshake, echo,
 * the protocol's edge cases), the probes' JSON as the seeds give it, and the graceful shutdown a
 * rolling update relies on (readiness turns 503 at SIGTERM while traffic is still served, in-flight
 * requests finish, WebSockets get a close frame, the process exits 0).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort, get } from "../test/fixtures/spa/serve";
import {
  OPCODE,
  UpgradeRefused,
  closeOf,
  connectWebSocket,
  encodeClientFrame,
} from "../test/fixtures/ws-client";

const SERVER = join(__dirname, "api/src/server.js");

interface Api {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Exit code and the time it came, once the process has exited. */
  readonly exited: Promise<{ code: number | null; at: number }>;
}

async function startApi(env: Record<string, string> = {}): Promise<Api> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH, PORT: String(port), HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once("exit", (code) => resolve({ code, at: Date.now() })),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await get(`${url}/health`);
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`API did not start: ${output} ${String(err)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { child, port, url, output: () => output, exited };
}

const running: Api[] = [];
async function api(env: Record<string, string> = {}): Promise<Api> {
  const a = await startApi(env);
  running.push(a);
  return a;
}
afterAll(() => {
  for (const a of running) if (a.child.exitCode === null) a.child.kill("SIGKILL");
});

/** A TCP connection that has sent the start of a request but not the end of its headers. */
function partialRequest(port: number, path: string): Promise<Socket & { reply: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
      let data = "";
      const reply = new Promise<string>((res) => {
        socket.on("data", (c: Buffer) => (data += c.toString()));
        socket.on("close", () => res(data));
      });
      resolve(Object.assign(socket, { reply }));
    });
    socket.on("error", reject);
  });
}

/** Whether a new TCP connection to the port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

describe("probes, as the seeds give them", () => {
  let a: Api;
  beforeAll(async () => {
    a = await api();
  });

  it('/health answers 200 {"status":"healthy"} and /ready 200 {"status":"ready"} as JSON', async () => {
    // Architecture seed §7.1: /health (liveness) {"status":"healthy"}, /ready (readiness) {"status":"ready"}.
    for (const [path, body] of [
      ["/health", '{"status":"healthy"}'],
      ["/ready", '{"status":"ready"}'],
      ["/api/v1/health", '{"status":"healthy"}'],
      ["/api/v1/ready", '{"status":"ready"}'],
    ]) {
      const res = await get(`${a.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers["content-type"], path).toBe("application/json");
      expect(res.body.toString(), path).toBe(body);
    }
  });
});

describe("WebSocket at /ws", () => {
  let a: Api;
  beforeAll(async () => {
    a = await api({ WS_PING_INTERVAL_SECONDS: "0" });
  });

  it("completes the handshake of RFC 6455 §1.3's example key", async () => {
    const ws = await connectWebSocket(`${a.url}/ws`, { key: "dGhlIHNhbXBsZSBub25jZQ==" });
    expect(ws.headers.upgrade).toBe("websocket");
    expect(ws.headers.connection).toBe("Upgrade");
    expect(ws.headers["sec-websocket-accept"]).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    // No extension or subprotocol was negotiated.
    expect(ws.headers).not.toHaveProperty("sec-websocket-extensions");
    expect(ws.headers).not.toHaveProperty("sec-websocket-protocol");
    ws.destroy();
  });

  it("echoes a text message, a JSON message and a binary message, unmasked and whole", async () => {
    const ws = await connectWebSocket(`${a.url}/ws`);
    ws.sendText("hello, monkeys 🐒");
    const text = await ws.next();
    expect(text).toEqual({
      fin: true,
      opcode: OPCODE.TEXT,
      masked: false,
      payload: Buffer.from("hello, monkeys 🐒"),
    });
    const json = JSON.stringify({ type: "state", game: 7, players: ["a", "b"] });
    ws.sendText(json);
    expect(JSON.parse((await ws.next()).payload.toString())).toEqual({
      type: "state",
      game: 7,
      players: ["a", "b"],
    });
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    ws.sendBinary(bytes);
    expect(await ws.next()).toMatchObject({ opcode: OPCODE.BINARY, payload: bytes });
    ws.destroy();
  });

  it("echoes messages of 16-bit and 64-bit lengths, and a fragmented message as one", async () => {
    const ws = await connectWebSocket(`${a.url}/ws`);
    const medium = "m".repeat(1_000);
    ws.sendText(medium);
    expect((await ws.next()).payload.toString()).toBe(medium);
    const large = Buffer.alloc(65_536, 7);
    ws.sendFrame(OPCODE.BINARY, large);
    expect((await ws.next()).payload.equals(large)).toBe(true);
    ws.sendFrame(OPCODE.TEXT, Buffer.from("frag"), { fin: false });
    ws.sendFrame(OPCODE.PING, Buffer.from("in between")); // control frames may interleave
    ws.sendFrame(OPCODE.CONTINUATION, Buffer.from("men"), { fin: false });
    ws.sendFrame(OPCODE.CONTINUATION, Buffer.from("ted"));
    expect(await ws.next()).toMatchObject({
      opcode: OPCODE.PONG,
      payload: Buffer.from("in between"),
    });
    expect(await ws.next()).toMatchObject({
      fin: true,
      opcode: OPCODE.TEXT,
      payload: Buffer.from("fragmented"),
    });
    ws.destroy();
  });

  it("answers a ping with a pong carrying the same payload", async () => {
    const ws = await connectWebSocket(`${a.url}/ws`);
    ws.sendFrame(OPCODE.PING, Buffer.from("are you there"));
    expect(await ws.next()).toEqual({
      fin: true,
      opcode: OPCODE.PONG,
      masked: false,
      payload: Buffer.from("are you there"),
    });
    ws.destroy();
  });

  it("answers a client's close with the same code and ends the connection", async () => {
    const ws = await connectWebSocket(`${a.url}/ws`);
    ws.sendClose(1000, "bye");
    const frame = await ws.next();
    expect(frame.opcode).toBe(OPCODE.CLOSE);
    expect(closeOf(frame).code).toBe(1000);
    await ws.closed;
  });

  it("fails protocol errors with the RFC's close codes: unmasked 1002, bad UTF-8 1007, too big 1009", async () => {
    const unmasked = await connectWebSocket(`${a.url}/ws`);
    unmasked.sendFrame(OPCODE.TEXT, Buffer.from("no mask"), { mask: false });
    expect(closeOf(await unmasked.next()).code).toBe(1002);
    await unmasked.closed;

    const badUtf8 = await connectWebSocket(`${a.url}/ws`);
    badUtf8.sendFrame(OPCODE.TEXT, Buffer.from([0xc3, 0x28]));
    expect(closeOf(await badUtf8.next()).code).toBe(1007);
    await badUtf8.closed;

    const tooBig = await connectWebSocket(`${a.url}/ws`);
    tooBig.raw(encodeClientFrame(OPCODE.BINARY, Buffer.alloc(64 * 1024 + 1)));
    expect(closeOf(await tooBig.next()).code).toBe(1009);
    await tooBig.closed;

    const orphan = await connectWebSocket(`${a.url}/ws`);
    orphan.sendFrame(OPCODE.CONTINUATION, Buffer.from("nothing to continue"));
    expect(closeOf(await orphan.next()).code).toBe(1002);
    await orphan.closed;
  });

  it("refuses upgrades elsewhere (404) and other protocol versions (426 naming 13); a plain GET /ws is told to upgrade", async () => {
    const elsewhere = await connectWebSocket(`${a.url}/api/v1/ws`).catch((e: unknown) => e);
    expect(elsewhere).toBeInstanceOf(UpgradeRefused);
    expect((elsewhere as UpgradeRefused).status).toBe(404);

    const v8 = await connectWebSocket(`${a.url}/ws`, {
      headers: { "Sec-WebSocket-Version": "8" },
    }).catch((e: unknown) => e);
    expect((v8 as UpgradeRefused).status).toBe(426);
    expect((v8 as UpgradeRefused).headers["sec-websocket-version"]).toBe("13");

    const plain = await get(`${a.url}/ws`);
    expect(plain.status).toBe(426);
    expect(plain.headers.upgrade).toBe("websocket");
  });

  it("counts open WebSockets on /metrics and logs the upgrade as an access line", async () => {
    const before = await connectWebSocket(`${a.url}/ws`, { headers: { "X-Request-ID": "ws-42" } });
    const gauge = async () =>
      Number(
        /^websocket_connections (\d+)$/m.exec((await get(`${a.url}/metrics`)).body.toString())?.[1],
      );
    const open = await gauge();
    expect(open).toBeGreaterThanOrEqual(1);
    before.sendClose(1000);
    await before.closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(await gauge()).toBe(open - 1);
    const line = a
      .output()
      .split("\n")
      .find((l) => l.includes('"requestId":"ws-42"'));
    expect(JSON.parse(line ?? "null")).toMatchObject({
      level: "info",
      message: "GET /ws 101",
      context: { log: "access", path: "/ws", status: 101 },
    });
  });
});

describe("WebSocket heartbeat", () => {
  it("pings every WS_PING_INTERVAL_SECONDS, keeps a peer that answers and drops one that does not", async () => {
    const a = await api({ WS_PING_INTERVAL_SECONDS: "0.2" });
    const answering = await connectWebSocket(`${a.url}/ws`);
    const silent = await connectWebSocket(`${a.url}/ws`);
    const started = Date.now();
    // One peer answers each ping for 1.5 s; the other never does.
    const pongs = (async () => {
      let answered = 0;
      while (Date.now() - started < 1_500) {
        const ping = await answering.next();
        expect(ping).toMatchObject({ opcode: OPCODE.PING, masked: false });
        answering.sendFrame(OPCODE.PONG, ping.payload);
        answered++;
      }
      return answered;
    })();
    expect(await silent.next()).toMatchObject({ opcode: OPCODE.PING, masked: false });
    await silent.closed; // no pong by the next ping: dropped
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await pongs).toBeGreaterThanOrEqual(4);
    answering.sendText("alive");
    let frame = await answering.next();
    while (frame.opcode === OPCODE.PING) frame = await answering.next();
    expect(frame.payload.toString()).toBe("alive");
    answering.destroy();
  });
});

describe("graceful shutdown on SIGTERM", () => {
  afterEach(() => {
    for (const a of running) if (a.child.exitCode === null) a.child.kill("SIGKILL");
  });

  it("readiness turns 503 at once while traffic is still served, then it drains: in-flight requests finish, WebSockets get 1001, it exits 0", async () => {
    const a = await api({ SHUTDOWN_DELAY_SECONDS: "1.5", SHUTDOWN_TIMEOUT_SECONDS: "10" });
    const ws = await connectWebSocket(`${a.url}/ws`);
    const inFlight = await partialRequest(a.port, "/api/v1/status");
    const sigterm = Date.now();
    a.child.kill("SIGTERM");

    // The delay: not ready, yet everything else still answers (the Service may still send traffic),
    // each response telling its client to reconnect elsewhere, and WebSockets still open.
    await new Promise((r) => setTimeout(r, 200));
    const ready = await get(`${a.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.toString()).toBe('{"status":"shutting down"}');
    const status = await get(`${a.url}/api/v1/status`);
    expect(status.status).toBe(200);
    expect(status.headers.connection).toBe("close");
    expect((await get(`${a.url}/health`)).status).toBe(200);
    const late = await connectWebSocket(`${a.url}/ws`);
    late.sendText("still here");
    expect((await late.next()).payload.toString()).toBe("still here");
    ws.sendText("echo during the delay");
    expect((await ws.next()).payload.toString()).toBe("echo during the delay");

    // The drain: every WebSocket gets a close frame (1001 going away) and the listener is closed.
    const closing = await ws.next(5_000);
    expect(Date.now() - sigterm).toBeGreaterThanOrEqual(1_400);
    expect(closing.opcode).toBe(OPCODE.CLOSE);
    expect(closeOf(closing)).toEqual({ code: 1001, reason: "server shutting down" });
    expect(closeOf(await late.next())).toMatchObject({ code: 1001 });
    expect(await accepts(a.port)).toBe(false);

    // The request in flight since before SIGTERM still gets its whole answer.
    inFlight.write("Accept: application/json\r\n\r\n");
    const reply = await inFlight.reply;
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply).toMatch(/\r\nConnection: close\r\n/i);
    expect(reply).toMatch(/\r\n\r\n\{"status":"ok","uptimeSeconds":\d+\}$/);

    // Clients answer the close; with nothing left open the process exits 0, well before the timeout.
    ws.sendClose(1001);
    late.sendClose(1001);
    const exit = await a.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - sigterm).toBeLessThan(5_000);
    const lines = a
      .output()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { message: string });
    expect(lines.map((l) => l.message)).toEqual(
      expect.arrayContaining(["shutting down", "draining", "stopped"]),
    );
    expect(a.output()).not.toContain("timed out");
  });

  it("without a delay (here: an unreadable one, said in a warning) it drains at once and exits 0 when the last connection is gone", async () => {
    const a = await api({ SHUTDOWN_DELAY_SECONDS: "soon" });
    expect(a.output()).toContain('"level":"warn","timestamp"');
    expect(a.output()).toContain("SHUTDOWN_DELAY_SECONDS is not a number of seconds: using 0");
    const ws = await connectWebSocket(`${a.url}/ws`);
    const sigterm = Date.now();
    a.child.kill("SIGTERM");
    expect(closeOf(await ws.next())).toMatchObject({ code: 1001 });
    expect(Date.now() - sigterm).toBeLessThan(1_000);
    ws.sendClose(1001);
    await ws.closed;
    expect((await a.exited).code).toBe(0);
  });

  it("drops what is still open after SHUTDOWN_TIMEOUT_SECONDS and exits 0", async () => {
    const a = await api({ SHUTDOWN_TIMEOUT_SECONDS: "1" });
    const stuck = await partialRequest(a.port, "/api/v1/status");
    const sigterm = Date.now();
    a.child.kill("SIGTERM");
    const exit = await a.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - sigterm).toBeGreaterThanOrEqual(900);
    expect(exit.at - sigterm).toBeLessThan(4_000);
    expect(a.output()).toContain(
      '"message":"shutdown timed out: dropping the connections still open"',
    );
    stuck.destroy();
  });
});
