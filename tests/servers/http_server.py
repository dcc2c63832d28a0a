#!/usr/bin/env python3
"""http_server.py — a scriptable HTTP/1.1 receiver for replyd's webhook tests.

Standard library only. Listens on 127.0.0.1 on a port the kernel picks and
writes that port (decimal, newline) to --port-file once it accepts
connections (written to FILE.tmp, then renamed, so a reader never sees half
a number). Keep-alive is supported, so a client can reuse its connection.

Every request is appended to --log as one JSON line, flushed, BEFORE the
server answers (or sleeps, or drops), so when a client has its result the
line is already there:
  {"seq": 1, "time": 1718000000.123, "conn": 1, "client_port": 51234,
   "method": "POST", "path": "/hook", "version": "HTTP/1.1",
   "headers": [["Host", "127.0.0.1:4711"], ...],   # as received, in order
   "header": {"host": "127.0.0.1:4711", ...},      # lower-case name -> last value
   "body": "...",          # the body decoded as UTF-8; null if it is not UTF-8
   "body_hex": "...",      # only when body is null
   "cue": "500"}
seq counts requests from 1; conn numbers TCP connections from 1 (the same
conn and client_port on two lines = the connection was reused).

Cues — what to do with each request, one per request, in arrival order:
  NNN        answer with status NNN (e.g. 200, 500, 404); 3xx answers carry
             "Location: /moved"
  NNN:V      the same plus "Retry-After: V" (e.g. 429:7, 503:120);
             NNN:date+S sends it as an HTTP-date S seconds from now
  timeout    log, sleep --timeout-sleep seconds (default 3; make it longer
             than the client's timeout), then answer 200 (timeout:NNN: NNN)
  drop       read the whole request, log it, close the connection without
             answering
Every answer has a JSON body built from --body (default
'{"status":{status},"request":{seq}}'; {status}, {seq} and {cue} are
replaced) and an exact Content-Length.

Where the cues come from:
  --script "500,timeout,200"   fixed list; request n gets entry n, and the
                               last entry repeats for ever. Default "200".
  --script-file FILE           a queue the test may change while the server
                               runs: entries separated by newlines and/or
                               commas, blank lines and lines starting with '#'
                               ignored. Each request takes (pops) the FIRST
                               entry and the server rewrites the file without
                               it (atomically: FILE.tmp + rename); the last
                               entry is never popped, so it repeats. To change
                               what comes next, replace the file atomically
                               (write FILE.tmp, then mv it over FILE) while no
                               request is in flight. A missing or empty file
                               falls back to --script; an entry that is not a
                               cue is answered with 500.

Stop it with SIGTERM (or SIGKILL); nothing is lost since each line is flushed.
"""
import argparse
import email.utils
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_entries(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out.extend(e.strip() for e in line.split(",") if e.strip())
    return out


def parse_cue(cue):
    """-> (kind, status, retry_after); kind is 'answer', 'timeout' or 'drop'."""
    if cue == "drop":
        return ("drop", 0, None)
    if cue == "timeout" or cue.startswith("timeout:"):
        status = int(cue.split(":", 1)[1]) if ":" in cue else 200
        return ("timeout", status, None)
    code, _, ra = cue.partition(":")
    status = int(code)
    if not 100 <= status <= 999:
        raise ValueError("status out of range")
    if ra.startswith("date+"):
        float(ra[5:])
    return ("answer", status, ra if ra else None)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.seq = 0
        self.conns = 0
        self.script = parse_entries(args.script.replace(",", "\n")) or ["200"]
        self.log = open(args.log, "a", encoding="utf-8")

    def next_cue(self):
        """Called with the lock held."""
        if self.args.script_file:
            path = self.args.script_file
            try:
                with open(path, encoding="utf-8") as f:
                    entries = parse_entries(f.read())
            except FileNotFoundError:
                entries = []
            if entries:
                if len(entries) > 1:
                    tmp = path + ".tmp"
                    with open(tmp, "w", encoding="utf-8") as f:
                        f.write("\n".join(entries[1:]) + "\n")
                    os.replace(tmp, path)
                return entries[0]
        i = min(self.seq - 1, len(self.script) - 1)
        return self.script[i]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are written separately: without this, Nagle's
    # algorithm holds the body back ~40 ms on a kept-alive connection
    disable_nagle_algorithm = True
    server_version = "replyd-test-http"
    sys_version = ""

    def setup(self):
        super().setup()
        st = self.server.state
        with st.lock:
            st.conns += 1
            self.conn_no = st.conns

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def handle_any(self):
        st = self.server.state
        body = self.read_body()
        with st.lock:
            st.seq += 1
            seq = st.seq
            cue = st.next_cue()
            rec = {
                "seq": seq,
                "time": time.time(),
                "conn": self.conn_no,
                "client_port": self.client_address[1],
                "method": self.command,
                "path": self.path,
                "version": self.request_version,
                "headers": [[k, v] for k, v in self.headers.items()],
                "header": {k.lower(): v for k, v in self.headers.items()},
                "cue": cue,
            }
            try:
                rec["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                rec["body"] = None
                rec["body_hex"] = body.hex()
            st.log.write(json.dumps(rec, ensure_ascii=False) + "\n")
            st.log.flush()
        try:
            kind, status, retry_after = parse_cue(cue)
        except ValueError:
            kind, status, retry_after = ("answer", 500, None)
        if kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if kind == "timeout":
            time.sleep(st.args.timeout_sleep)
        text = (st.args.body.replace("{status}", str(status))
                .replace("{seq}", str(seq)).replace("{cue}", cue))
        payload = text.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if retry_after is not None:
                if retry_after.startswith("date+"):
                    when = time.time() + float(retry_after[5:])
                    retry_after = email.utils.formatdate(when, usegmt=True)
                self.send_header("Retry-After", retry_after)
            if 300 <= status <= 399:
                self.send_header("Location", "/moved")
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    ap = argparse.ArgumentParser(description="scriptable HTTP receiver for tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script", default="200")
    ap.add_argument("--script-file")
    ap.add_argument("--timeout-sleep", type=float, default=3.0)
    ap.add_argument("--body", default='{"status":{status},"request":{seq}}')
    args = ap.parse_args()
    for e in parse_entries(args.script.replace(",", "\n")):
        try:
            parse_cue(e)
        except ValueError:
            ap.error("bad cue %r in --script" % e)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
