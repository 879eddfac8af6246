#!/usr/bin/env python3
"""weir-test-server: one local HTTP/1.1 server for every Weir HTTP test and benchmark.

Usage: weir-test-server.py [--port N] [--log FILE] [--tls CERT KEY]

Binds 127.0.0.1 (port 0 = ephemeral unless --port) and prints `PORT <n>` as its first line
on stdout. Python 3 standard library only; uses uvloop when it can be imported, else asyncio.
Protocol-level code (no streams) so that it serves > 5,000 req/s with 256 keep-alive
connections and 50 ms latency on two cores.

--log FILE      appends one JSON line per request:
                {"t": <epoch seconds>, "method", "path" (target with query), "conn": <connection id>,
                 "headers": {name as received: value}, "body": "<latin-1 text>"}
--tls CERT KEY  serves HTTPS instead of HTTP.

Answers (path, then query switches; switches combine where that makes sense):
  /users/<id>, /items/<id>   200 {"id": <id, an integer if all digits>, "name": "user <id>"}
  /_stats                     {"open": <connections open now>, "opened": <total>, "requests": <total>}
                              (the connection asking for stats, and /_stats requests themselves,
                              are not counted)
  http://host/path            (absolute form, as sent to a proxy) answered as /path; logged as sent
  any other path              404 {"error": "not found", "path": <path>}

  delay=<s>                   wait s seconds (float) before answering; delay=rand:<lo>:<hi> random
  status=<code>               answer with that status (the usual body; none for 204, 304, 1xx)
  fail=<n>                    the first n requests for this path+query (without fail=) answer 500
  fail429=<n>                 the first n requests for this path+query (without fail429= and
                              retry_after=) answer 429; retry_after=<secs|http-date> adds Retry-After
  reset=1                     send the headers and half the body, then close the connection
  slow_body=<s>               the body trickled in 10 pieces over s seconds
  hang=1                      never answer (the connection stays open until the client closes it)
  malformed=1                 the body is not JSON
  chunked=1                   Transfer-Encoding: chunked, several chunks and a trailer
  close=1                     close-delimited body (no Content-Length, Connection: close)
  redirect=<n>                n hops of 302 (relative Location, redirect=n-1), then the answer;
                              redirect_code=<301|302|303|307|308> picks the code
  auth=1                      401 with WWW-Authenticate: Basic realm="weir"
  echo=1                      200 {"method", "path", "headers": {...}, "body": "..."}
  bytes=<n>                   an n-byte body that is one JSON string ("aaa...")
  continue=1                  a `100 Continue` interim response before the final one
  stale=1                     answer normally, then close the connection without a word when the
                              next request arrives on it (a keep-alive connection gone stale)
HEAD gets the GET headers (Content-Length included) and no body.
"""

import argparse
import asyncio
import itertools
import json
import random
import signal
import ssl
import sys
import time
from urllib.parse import parse_qsl, unquote

try:
    import uvloop  # type: ignore
except ImportError:
    uvloop = None

REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect",
    308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
    429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
}


class State:
    """Counters and the per-path failure counts, shared by all connections."""

    def __init__(self, log_path):
        self.open = 0
        self.opened = 0
        self.requests = 0
        self.fail_counts = {}
        self.ids = itertools.count(1)
        self.loop = None
        self.log = open(log_path, "a", buffering=1) if log_path else None


class Request:
    __slots__ = ("method", "target", "path", "query", "raw_headers", "body", "keep_alive")

    @property
    def headers(self):
        """The header fields as a dict, names as received."""
        fields = {}
        for line in self.raw_headers.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name:
                fields[name] = value.strip()
        return fields


class Connection(asyncio.Protocol):
    """One client connection: parses requests and answers them one at a time, in order."""

    def __init__(self, state):
        self.state = state
        self.buffer = b""
        self.pending = []       # parsed requests waiting for the one being answered
        self.busy = False
        self.closed = False
        self.stale = False      # close silently when the next request arrives
        self.is_stats = False
        self.transport = None
        self.conn_id = 0

    # asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport
        self.conn_id = next(self.state.ids)
        self.state.open += 1
        self.state.opened += 1

    def connection_lost(self, exc):
        self.closed = True
        if not self.is_stats:
            self.state.open -= 1

    def data_received(self, data):
        self.buffer += data
        while True:
            request = self.parse()
            if request is None:
                break
            self.pending.append(request)
        if not self.busy:
            self.next_request()

    # Parsing

    def parse(self):
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        raw = self.buffer[:end]
        line_end = raw.find(b"\r\n")
        first = (raw if line_end < 0 else raw[:line_end]).decode("latin-1")
        try:
            method, target, version = first.split(" ", 2)
        except ValueError:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
            self.buffer = b""
            return None
        # Only Content-Length and Connection matter for framing; the rest is parsed on demand.
        lower = raw.lower()
        length = 0
        at = lower.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = lower.find(b"\r\n", at + 2)
            length = int(lower[at + 17:stop if stop >= 0 else len(lower)])
        keep_alive = version != "HTTP/1.0"
        at = lower.find(b"\r\nconnection:")
        if at >= 0:
            stop = lower.find(b"\r\n", at + 2)
            value = lower[at + 13:stop if stop >= 0 else len(lower)].strip()
            if value == b"close":
                keep_alive = False
            elif value == b"keep-alive":
                keep_alive = True
        body_start = end + 4
        if len(self.buffer) < body_start + length:
            return None
        request = Request()
        request.method = method
        request.target = target
        path, _, query = target.partition("?")
        if path.startswith("http://"):  # absolute form, as sent to a proxy: route by its path
            slash = path.find("/", 7)
            path = path[slash:] if slash >= 0 else "/"
        request.path = unquote(path) if "%" in path else path
        request.query = query
        request.raw_headers = raw[line_end + 2:] if line_end >= 0 else b""
        request.body = self.buffer[body_start:body_start + length]
        request.keep_alive = keep_alive
        self.buffer = self.buffer[body_start + length:]
        return request

    # Answering

    def next_request(self):
        if self.closed or not self.pending:
            self.busy = False
            return
        self.busy = True
        request = self.pending.pop(0)
        if self.stale:
            self.log(request, dropped=True)
            self.transport.close()
            return
        if request.path == "/_stats":
            if not self.is_stats:
                self.is_stats = True
                self.state.opened -= 1
                self.state.open -= 1
            state = self.state
            self.respond(request, 200, {}, json.dumps(
                {"open": state.open, "opened": state.opened, "requests": state.requests}).encode())
            return
        self.state.requests += 1
        self.log(request)
        params = dict(parse_qsl(request.query, keep_blank_values=True)) if request.query else {}
        delay = params.get("delay")
        seconds = 0.0
        if delay:
            if delay.startswith("rand:"):
                _, low, high = delay.split(":")
                seconds = random.uniform(float(low), float(high))
            else:
                seconds = float(delay)
        if params.get("hang") == "1":
            return  # never answer; stay busy so later requests on this connection wait too
        if seconds > 0:
            self.state.loop.call_later(seconds, self.answer, request, params)
        else:
            self.answer(request, params)

    def log(self, request, dropped=False):
        if self.state.log is None:
            return
        entry = {"t": time.time(), "method": request.method, "path": request.target, "conn": self.conn_id,
                 "headers": request.headers, "body": request.body.decode("latin-1")}
        if dropped:
            entry["dropped"] = True
        self.state.log.write(json.dumps(entry) + "\n")

    def counted_failure(self, request, params, switch, drop):
        """True while the first n requests for this path+query (less `drop`) are still failing."""
        if switch not in params:
            return False
        limit = int(params.get(switch, "0") or 0)
        if limit <= 0:
            return False
        rest = "&".join(p for p in request.query.split("&") if p.split("=", 1)[0] not in drop)
        key = (switch, request.path, rest)
        count = self.state.fail_counts.get(key, 0)
        self.state.fail_counts[key] = count + 1
        return count < limit

    def answer(self, request, params):
        if self.closed:
            return
        if params.get("continue") == "1":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if params.get("stale") == "1":
            self.stale = True
        headers = {}
        if self.counted_failure(request, params, "fail", ("fail",)):
            return self.respond(request, 500, {}, b'{"error": "failing on purpose"}')
        if self.counted_failure(request, params, "fail429", ("fail429", "retry_after")):
            if "retry_after" in params:
                headers["Retry-After"] = params["retry_after"]
            return self.respond(request, 429, headers, b'{"error": "slow down"}')
        hops = int(params.get("redirect", "0") or 0)
        if hops > 0:
            rest = [p for p in request.query.split("&") if p.split("=", 1)[0] != "redirect"]
            if hops > 1:
                rest.append("redirect=%d" % (hops - 1))
            location = request.target.partition("?")[0] + ("?" + "&".join(rest) if rest else "")
            code = int(params.get("redirect_code", "302"))
            return self.respond(request, code, {"Location": location}, b"")
        if params.get("auth") == "1":
            return self.respond(request, 401, {"WWW-Authenticate": 'Basic realm="weir"'}, b'{"error": "unauthorized"}')

        status = int(params.get("status", "200"))
        if params.get("echo") == "1":
            body = json.dumps({"method": request.method, "path": request.target, "headers": request.headers,
                               "body": request.body.decode("latin-1")}).encode()
        elif "bytes" in params:
            size = max(int(params["bytes"]), 2)
            body = b'"' + b"a" * (size - 2) + b'"'
        elif params.get("malformed") == "1":
            body = b"this is {not JSON"
        else:
            parts = request.path.split("/")
            if len(parts) == 3 and parts[1] in ("users", "items") and parts[2]:
                ident = parts[2]
                if ident.isdigit():
                    body = ('{"id": %s, "name": "user %s"}' % (int(ident), ident)).encode()
                else:
                    body = json.dumps({"id": ident, "name": "user %s" % ident}).encode()
            else:
                if "status" not in params:
                    status = 404
                body = json.dumps({"error": "not found", "path": request.path}).encode()

        if params.get("reset") == "1":
            head = self.head(status, {"Content-Length": str(len(body))}, request.keep_alive)
            self.transport.write(head + body[:len(body) // 2])
            self.transport.close()
            return
        if params.get("chunked") == "1" and request.method != "HEAD":
            return self.respond_chunked(request, status, headers, body)
        if params.get("close") == "1":
            head = self.head(status, headers, False, length=None)
            self.transport.write(head if request.method == "HEAD" else head + body)
            self.transport.close()
            return
        if "slow_body" in params and request.method != "HEAD":
            return self.respond_slowly(request, status, headers, body, float(params["slow_body"]))
        self.respond(request, status, headers, body)

    def head(self, status, headers, keep_alive, length=-1):
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status"))]
        lines.append("Content-Type: application/json")
        for name, value in headers.items():
            lines.append("%s: %s" % (name, value))
        if length is not None and length >= 0:
            lines.append("Content-Length: %d" % length)
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def respond(self, request, status, headers, body):
        """A complete answer with Content-Length (none and no body for 1xx, 204, 304)."""
        bodiless = status in (204, 304) or 100 <= status < 200
        if bodiless:
            body = b""
        head = self.head(status, headers, request.keep_alive, length=-1 if bodiless else len(body))
        self.transport.write(head if request.method == "HEAD" else head + body)
        self.finish(request)

    def respond_chunked(self, request, status, headers, body):
        headers = dict(headers, **{"Transfer-Encoding": "chunked", "Trailer": "X-Weir-Trailer"})
        out = [self.head(status, headers, request.keep_alive, length=None)]
        step = max(1, len(body) // 3)
        for start in range(0, len(body), step):
            piece = body[start:start + step]
            out.append(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
        out.append(b"0\r\nX-Weir-Trailer: done\r\n\r\n")
        self.transport.write(b"".join(out))
        self.finish(request)

    def respond_slowly(self, request, status, headers, body, seconds):
        self.transport.write(self.head(status, headers, request.keep_alive, length=len(body)))
        pieces = 10
        step = max(1, -(-len(body) // pieces))
        chunks = [body[i:i + step] for i in range(0, len(body), step)]
        loop = self.state.loop

        def send(index):
            if self.closed:
                return
            self.transport.write(chunks[index])
            if index + 1 < len(chunks):
                loop.call_later(seconds / pieces, send, index + 1)
            else:
                self.finish(request)

        loop.call_later(seconds / pieces, send, 0)

    def finish(self, request):
        if not request.keep_alive:
            self.transport.close()
            return
        self.next_request()


async def main():
    parser = argparse.ArgumentParser(description="Weir's local HTTP test server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    options = parser.parse_args()
    context = None
    if options.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options.tls[0], options.tls[1])
    state = State(options.log)
    loop = asyncio.get_running_loop()
    state.loop = loop
    server = await loop.create_server(lambda: Connection(state), "127.0.0.1", options.port,
                                      ssl=context, backlog=1024, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    # A parent that started us from a thread with SIGTERM blocked passes the mask on.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    try:
        if uvloop is not None:
            uvloop.install()
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
