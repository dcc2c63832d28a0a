#!/usr/bin/python3
"""Loopback SMTP server for replyd's tests and benchmarks (aiosmtpd).

Listens on 127.0.0.1, on a port the kernel picks, and runs until killed
(SIGTERM/SIGINT end it cleanly).

  --port-file F        write the port to F (atomically) once listening
  --out DIR            store each accepted message as DIR/NNNNNN.eml (the
                       DATA bytes exactly as received, dot-unstuffed, CRLF)
                       and DIR/NNNNNN.json (mail_from, rcpt_tos, connection,
                       seq, mail_options, helo)
  --stats F            JSON counters, rewritten in place after each event
                       (one fixed-size write, padded with spaces):
                       connections, open, messages, rcpt_rejected, dropped,
                       stalled, auth_ok, auth_failed, starttls
  --fail-rcpt CODE:N   answer the first N RCPT commands with CODE (4xx/5xx)
  --drop-after-data N  for the first N messages: close the connection after
                       the data arrived, without any reply; those messages are
                       not stored (they count as "dropped")
  --max-per-connection N
                       accept N messages per connection, then answer the next
                       MAIL with 421 and close (as busy servers do); counted
                       as "closed_busy"
  --stall-after-data N for the first N messages: never answer after the data
                       arrived (the connection stays open until the client
                       gives up); not stored, counted as "stalled"
  --auth USER:PASS     require AUTH (PLAIN or LOGIN) with these credentials
  --tls-cert F --tls-key F
                       offer STARTTLS with this certificate and require it
                       before MAIL
  --smtps              with --tls-cert/--tls-key: TLS from the first byte
                       (implicit TLS, smtps://) instead of STARTTLS
  --quiet              no log lines on standard error

Speed: without --out it takes about 1000 messages a second over one reused
connection on a small machine; with --out each message costs two file
creations, so for throughput runs put DIR on a tmpfs (/dev/shm) or leave
--out away.

Replies name the recipient (like many real servers do), so that clients can
be tested for cutting addresses out of what they log:
  RCPT rejected: "CODE ... <rcpt>: Recipient address rejected"
  message accepted: "250 2.0.0 Ok: queued as NNNNNN <rcpt>"
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:  # the test scripts check this first and skip
    sys.stderr.write("smtp_server.py: python3-aiosmtpd is not installed\n")
    sys.exit(3)


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_new(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


class StatsFile:
    """The counters as JSON, rewritten in place with one pwrite() of a fixed
    size (padded with spaces), so that a reader never sees a half-written
    file and an update costs one system call."""
    SIZE = 512

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)

    def write(self, stats):
        data = json.dumps(stats, sort_keys=True).encode()
        os.pwrite(self.fd, data.ljust(self.SIZE - 1) + b"\n", 0)


class State:
    def __init__(self, args):
        self.args = args
        self.stats = {"connections": 0, "open": 0, "messages": 0, "rcpt_rejected": 0,
                      "dropped": 0, "stalled": 0, "closed_busy": 0, "auth_ok": 0,
                      "auth_failed": 0, "starttls": 0}
        self.fail_code, self.fail_left = 0, 0
        if args.fail_rcpt:
            code, n = args.fail_rcpt.split(":", 1)
            self.fail_code, self.fail_left = int(code), int(n)
        self.drop_left = args.drop_after_data
        self.stall_left = args.stall_after_data
        self.auth = None
        if args.auth:
            user, pw = args.auth.split(":", 1)
            self.auth = (user.encode(), pw.encode())

        self.stats_file = StatsFile(args.stats) if args.stats else None

    def save_stats(self):
        if self.stats_file:
            self.stats_file.write(self.stats)


class Handler:
    def __init__(self, state):
        self.state = state

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        st = self.state
        if st.args.max_per_connection and server.rp_msgs >= st.args.max_per_connection:
            st.stats["closed_busy"] += 1
            st.save_stats()
            # close once the reply is out (close() sends what is buffered)
            server.loop.call_soon(server.transport.close)
            return "421 4.7.0 replyd-test.invalid too many messages, closing connection"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        st = self.state
        if st.fail_left > 0:
            st.fail_left -= 1
            st.stats["rcpt_rejected"] += 1
            st.save_stats()
            text = "4.2.0" if st.fail_code < 500 else "5.1.1"
            return "%d %s <%s>: Recipient address rejected" % (st.fail_code, text, address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        st = self.state
        if st.drop_left > 0:
            st.drop_left -= 1
            st.stats["dropped"] += 1
            st.save_stats()
            # no reply at all: the client cannot know whether we kept it
            server.transport.abort()
            return "421 closing"  # goes nowhere: the transport is gone
        if st.stall_left > 0:
            st.stall_left -= 1
            st.stats["stalled"] += 1
            st.save_stats()
            await asyncio.Event().wait()  # cancelled when the client hangs up
        st.stats["messages"] += 1
        server.rp_msgs += 1
        seq = st.stats["messages"]
        name = "%06d" % seq
        if st.args.out:
            base = os.path.join(st.args.out, name)
            write_new(base + ".eml", envelope.original_content)
            meta = {"seq": seq, "connection": session.rp_conn, "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos, "mail_options": envelope.mail_options,
                    "helo": session.host_name}
            write_new(base + ".json", json.dumps(meta, sort_keys=True).encode() + b"\n")
        st.save_stats()
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        return "250 2.0.0 Ok: queued as %s <%s>" % (name, rcpt)


class CountingSMTP(SMTP):
    """SMTP that numbers its connections and reports them in the stats."""

    def __init__(self, state, *a, **kw):
        self.rp_state = state
        self.rp_conn = 0
        self.rp_open = False
        self.rp_msgs = 0  # messages stored on this connection
        super().__init__(*a, **kw)

    def connection_made(self, transport):
        starttls = self._original_transport is not None
        super().connection_made(transport)
        st = self.rp_state
        if starttls:
            st.stats["starttls"] += 1
        else:
            st.stats["connections"] += 1
            st.stats["open"] += 1
            self.rp_conn = st.stats["connections"]
            self.rp_open = True
        self.session.rp_conn = self.rp_conn
        st.save_stats()

    def connection_lost(self, error):
        if self.rp_open:
            self.rp_open = False
            self.rp_state.stats["open"] -= 1
            self.rp_state.save_stats()
        super().connection_lost(error)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out")
    ap.add_argument("--stats")
    ap.add_argument("--fail-rcpt")
    ap.add_argument("--drop-after-data", type=int, default=0)
    ap.add_argument("--stall-after-data", type=int, default=0)
    ap.add_argument("--max-per-connection", type=int, default=0)
    ap.add_argument("--auth")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--smtps", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="smtp_server: %(message)s")
    if args.quiet:
        logging.getLogger("mail.log").setLevel(logging.ERROR)
    if args.out:
        os.makedirs(args.out, exist_ok=True)

    state = State(args)
    handler = Handler(state)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and state.auth is not None and
              (auth_data.login, auth_data.password) == state.auth)
        state.stats["auth_ok" if ok else "auth_failed"] += 1
        state.save_stats()
        # handled=False: let aiosmtpd answer 535 on failure
        return AuthResult(success=ok, handled=False)

    kw = dict(hostname="replyd-test.invalid", ident="replyd test SMTP", decode_data=False,
              enable_SMTPUTF8=False)
    implicit = tls_context if args.smtps else None
    if tls_context and not implicit:
        kw.update(tls_context=tls_context, require_starttls=True)
    if state.auth:
        # on implicit TLS aiosmtpd does not know the session is encrypted
        kw.update(authenticator=authenticator, auth_required=True,
                  auth_require_tls=bool(tls_context) and not implicit)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return CountingSMTP(state, handler, loop=loop, **kw)

    server = loop.run_until_complete(loop.create_server(factory, host="127.0.0.1", port=0,
                                                      ssl=implicit))
    port = server.sockets[0].getsockname()[1]
    state.save_stats()
    write_atomic(args.port_file, b"%d\n" % port)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


if __name__ == "__main__":
    main()
