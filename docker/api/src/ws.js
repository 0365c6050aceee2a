// A small WebSocket server (RFC 6455) on node:http's "upgrade" event, with no dependencies:
// the opening handshake, masked client frames, fragmented messages, ping/pong, the closing
// handshake with status codes, a message size limit and a heartbeat that drops dead peers.
// No extensions (permessage-deflate is declined by not answering it) and no subprotocols.
"use strict";
const crypto = require("node:crypto");
const { EventEmitter } = require("node:events");
const { STATUS_CODES } = require("node:http");

/** The GUID RFC 6455 §1.3 appends to Sec-WebSocket-Key. */
const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OP = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };
/** Close codes (RFC 6455 §7.4.1). */
const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  INVALID_DATA: 1007,
  TOO_BIG: 1009,
};
/** How long a peer has to answer our close frame before the TCP connection is dropped. */
const CLOSE_TIMEOUT_MS = 2_000;

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
function acceptKey(key) {
  return crypto
    .createHash("sha1")
    .update(key + HANDSHAKE_GUID)
    .digest("base64");
}

/** Why this upgrade request cannot become a WebSocket: [status, message, headers], or undefined. */
function handshakeProblem(req) {
  if (req.method !== "GET") return [405, "method not allowed", {}];
  const upgrade = String(req.headers.upgrade || "").toLowerCase();
  const connection = String(req.headers.connection || "")
    .toLowerCase()
    .split(",")
    .map((t) => t.trim());
  if (upgrade !== "websocket" || !connection.includes("upgrade")) {
    return [400, "not a WebSocket upgrade", {}];
  }
  if (req.headers["sec-websocket-version"] !== "13") {
    return [426, "unsupported WebSocket version", { "Sec-WebSocket-Version": "13" }];
  }
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || Buffer.from(key.trim(), "base64").length !== 16) {
    return [400, "bad Sec-WebSocket-Key", {}];
  }
  return undefined;
}

/** Answer an upgrade request with a plain HTTP error and close the connection. */
function rejectUpgrade(socket, status, message, headers = {}) {
  const body = JSON.stringify({ error: message });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Cache-Control: no-store",
    "Connection: close",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
}

/** One unmasked server frame (servers never mask, RFC 6455 §5.1). */
function encodeFrame(opcode, payload) {
  const length = payload.length;
  let header;
  if (length < 126) {
    header = Buffer.alloc(2);
    header[1] = length;
  } else if (length < 65_536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  header[0] = 0x80 | opcode;
  return Buffer.concat([header, payload]);
}

function closePayload(code, reason = "") {
  const text = Buffer.from(reason, "utf8").subarray(0, 123);
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}

/** Close codes a peer may send (RFC 6455 §7.4.1-2; 1004-1006 and 1015 never go over the wire). */
function validCloseCode(code) {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
function decodeUtf8(buffer) {
  try {
    return utf8.decode(buffer);
  } catch {
    return undefined;
  }
}

/**
 * An accepted WebSocket. Events: "message" (data: string for text, Buffer for binary, isBinary),
 * "close" (code, reason) once the TCP connection is gone.
 */
class WebSocketConnection extends EventEmitter {
  constructor(socket, { maxMessageBytes, pingIntervalMs }) {
    super();
    this.socket = socket;
    this.maxMessageBytes = maxMessageBytes;
    this.buffered = Buffer.alloc(0);
    this.fragments = undefined; // { opcode, parts: Buffer[], size } while a message is fragmented
    this.closeSent = false;
    this.closeCode = 1006;
    this.closeReason = "";
    this.alive = true;
    socket.setNoDelay(true);
    socket.setTimeout(0);
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      clearInterval(this.heartbeat);
      clearTimeout(this.closeTimer);
      this.emit("close", this.closeCode, this.closeReason);
    });
    if (pingIntervalMs > 0) {
      // A peer that has not answered the previous ping by the next one is gone: drop it.
      this.heartbeat = setInterval(() => {
        if (this.closeSent) return;
        if (!this.alive) return this.terminate();
        this.alive = false;
        this.write(OP.PING, Buffer.alloc(0));
      }, pingIntervalMs);
      this.heartbeat.unref();
    }
  }

  /** Send a message: a string as text, a Buffer as binary. */
  send(data) {
    if (this.closeSent) return;
    if (typeof data === "string") this.write(OP.TEXT, Buffer.from(data, "utf8"));
    else this.write(OP.BINARY, data);
  }

  /** Start the closing handshake; the connection ends when the peer answers (or after a timeout). */
  close(code = CLOSE.NORMAL, reason = "") {
    if (this.closeSent) return;
    this.closeSent = true;
    this.closeCode = code;
    this.closeReason = reason;
    this.write(OP.CLOSE, closePayload(code, reason));
    this.closeTimer = setTimeout(() => this.terminate(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  /** Drop the TCP connection without a closing handshake. */
  terminate() {
    this.socket.destroy();
  }

  write(opcode, payload) {
    if (!this.socket.destroyed && this.socket.writable)
      this.socket.write(encodeFrame(opcode, payload));
  }

  /** Fail the connection (RFC 6455 §7.1.7): a close frame with the reason, then end it. */
  fail(code, reason) {
    if (!this.closeSent) {
      this.closeSent = true;
      this.closeCode = code;
      this.closeReason = reason;
      this.write(OP.CLOSE, closePayload(code, reason));
    }
    this.finish();
  }

  /** Read nothing more, end our side, and drop the connection if the peer does not end its side. */
  finish() {
    this.finished = true;
    this.buffered = Buffer.alloc(0);
    this.socket.end();
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => this.terminate(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  onData(chunk) {
    if (this.finished) return;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (!this.finished && this.buffered.length >= 2) {
      const b0 = this.buffered[0];
      const b1 = this.buffered[1];
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x70) !== 0) return this.fail(CLOSE.PROTOCOL_ERROR, "no extension was negotiated");
      if ((b1 & 0x80) === 0) return this.fail(CLOSE.PROTOCOL_ERROR, "client frames must be masked");
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffered.length < 4) return;
        length = this.buffered.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffered.length < 10) return;
        const big = this.buffered.readBigUInt64BE(2);
        if (big > BigInt(this.maxMessageBytes)) return this.fail(CLOSE.TOO_BIG, "message too big");
        length = Number(big);
        offset = 10;
      }
      const control = (opcode & 0x08) !== 0;
      if (control && (!fin || length > 125)) {
        return this.fail(
          CLOSE.PROTOCOL_ERROR,
          "control frames must be whole and at most 125 bytes",
        );
      }
      if (![0x0, 0x1, 0x2, 0x8, 0x9, 0xa].includes(opcode)) {
        return this.fail(CLOSE.PROTOCOL_ERROR, `unknown opcode ${opcode}`);
      }
      const pending = this.fragments ? this.fragments.size : 0;
      if (!control && pending + length > this.maxMessageBytes) {
        return this.fail(CLOSE.TOO_BIG, "message too big");
      }
      if (this.buffered.length < offset + 4 + length) return;
      const mask = this.buffered.subarray(offset, offset + 4);
      const payload = Buffer.from(this.buffered.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      this.buffered = this.buffered.subarray(offset + 4 + length);
      this.onFrame(fin, opcode, payload);
    }
  }

  onFrame(fin, opcode, payload) {
    switch (opcode) {
      case OP.TEXT:
      case OP.BINARY:
        if (this.fragments) return this.fail(CLOSE.PROTOCOL_ERROR, "expected a continuation frame");
        if (fin) return this.deliver(opcode, payload);
        this.fragments = { opcode, parts: [payload], size: payload.length };
        return;
      case OP.CONTINUATION: {
        if (!this.fragments) return this.fail(CLOSE.PROTOCOL_ERROR, "nothing to continue");
        this.fragments.parts.push(payload);
        this.fragments.size += payload.length;
        if (!fin) return;
        const { opcode: first, parts } = this.fragments;
        this.fragments = undefined;
        return this.deliver(first, Buffer.concat(parts));
      }
      case OP.PING:
        return this.write(OP.PONG, payload);
      case OP.PONG:
        this.alive = true;
        return;
      case OP.CLOSE:
        return this.onClose(payload);
    }
  }

  deliver(opcode, payload) {
    if (this.closeSent) return;
    if (opcode === OP.BINARY) return this.emit("message", payload, true);
    const text = decodeUtf8(payload);
    if (text === undefined) return this.fail(CLOSE.INVALID_DATA, "text message is not UTF-8");
    this.emit("message", text, false);
  }

  onClose(payload) {
    if (payload.length === 1) return this.fail(CLOSE.PROTOCOL_ERROR, "close frame of one byte");
    let code;
    let reason = "";
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      if (!validCloseCode(code))
        return this.fail(CLOSE.PROTOCOL_ERROR, `invalid close code ${code}`);
      const text = decodeUtf8(payload.subarray(2));
      if (text === undefined) return this.fail(CLOSE.INVALID_DATA, "close reason is not UTF-8");
      reason = text;
    }
    if (!this.closeSent) {
      // The peer started the closing handshake: answer with its code, then end.
      this.closeSent = true;
      this.closeCode = code ?? 1005;
      this.closeReason = reason;
      this.write(OP.CLOSE, code === undefined ? Buffer.alloc(0) : closePayload(code));
    }
    this.finish();
  }
}

/**
 * Complete the opening handshake of an upgrade request that `handshakeProblem` accepts, and return
 * the WebSocketConnection.
 */
function acceptUpgrade(
  req,
  socket,
  head,
  { maxMessageBytes = 64 * 1024, pingIntervalMs = 30_000 } = {},
) {
  const key = req.headers["sec-websocket-key"].trim();
  socket.write(
    [
      "HTTP/1.1 101 Switching Protocols",
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Accept: ${acceptKey(key)}`,
    ].join("\r\n") + "\r\n\r\n",
  );
  const ws = new WebSocketConnection(socket, { maxMessageBytes, pingIntervalMs });
  if (head && head.length > 0) ws.onData(head);
  return ws;
}

module.exports = { CLOSE, acceptUpgrade, handshakeProblem, rejectUpgrade };
