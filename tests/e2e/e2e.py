#!/usr/bin/python3
"""Helper of tests/e2e/test_full_day.sh: talks IMAP to the test Dovecot, reads
what the test SMTP server received, and reads the queue file (read-only).

Subcommands (PORT is Dovecot's IMAP port on 127.0.0.1, user relay/secret):

  append PORT FILE...        APPEND each message to INBOX, unseen, with its
                             Date header as INTERNALDATE (LF -> CRLF)
  batch PORT OUT N START     write N relayed buyer messages into folder OUT
                             (copies of the overnight fixtures with their own
                             relay alias, Message-ID and Date: START, START+1
                             min, ... ; START is ISO 8601) and print their
                             Message-IDs, one a line
  seen PORT                  one line per message in INBOX: "<msgid> seen" or
                             "<msgid> unseen" (EXAMINE: nothing is changed)
  mails DIR                  one JSON object a line per message the SMTP server
                             stored in DIR: message_id, in_reply_to,
                             references, from, to, subject, auto_submitted,
                             rcpt_tos, body (decoded text)
  queue DB SQL [ARG...]      run one read-only query, print rows as JSON lines

The test's inline checks import this file (sys.path) and use check(),
mails(), queue_rows(), seen() and cli_json(): each check prints "ok - ..." or
"FAIL - ...", which the shell script counts.

Buyer data in the fixtures is made up. Exit status: 0, or 1 with a reason on
standard error.
"""
import datetime
import email
import email.policy
import email.utils
import glob
import imaplib
import json
import os
import re
import sqlite3
import subprocess
import sys


def imap(port):
    m = imaplib.IMAP4("127.0.0.1", int(port))
    m.login("relay", "secret")
    return m


def crlf(raw):
    return re.sub(rb"\r?\n", b"\r\n", raw)


def internaldate(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    d = email.utils.parsedate_to_datetime(msg["Date"])
    return d.astimezone(datetime.timezone.utc).strftime('"%d-%b-%Y %H:%M:%S +0000"')


def cmd_append(port, *files):
    m = imap(port)
    for f in files:
        raw = crlf(open(f, "rb").read())
        typ, data = m.append("INBOX", None, internaldate(raw), raw)
        if typ != "OK":
            sys.exit("APPEND %s: %r" % (f, data))
    m.logout()


FIXTURES = ["n1-en-order-status.eml", "n2-de-invoice.eml", "n3-fr-return.eml",
            "n4-it-product-question.eml", "n5-es-cancel.eml", "n6-ja-invoice.eml"]


def cmd_batch(port, out, n, start):
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "messages")
    t0 = datetime.datetime.fromisoformat(start).astimezone(datetime.timezone.utc)
    os.makedirs(out, exist_ok=True)
    for i in range(int(n)):
        raw = open(os.path.join(here, FIXTURES[i % len(FIXTURES)]), "rb").read()
        t = t0 + datetime.timedelta(minutes=i)
        old_alias = re.search(rb"<([a-z0-9]+)@marketplace\.", raw).group(1)
        alias = ("b%02dx%s" % (i, old_alias[4:].decode())).encode()
        raw = raw.replace(old_alias + b"@marketplace.", alias + b"@marketplace.")
        stamp = t.strftime("%Y%m%d%H%M%S").encode()
        raw = re.sub(rb"(?m)^Message-ID: <\d+\.", b"Message-ID: <" + stamp + b".", raw)
        raw = re.sub(rb"(?m)^Date: .*$", b"Date: " + email.utils.format_datetime(t).encode(),
                     raw, count=1)
        path = os.path.join(out, "batch-%02d.eml" % i)
        with open(path, "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        print(msg["Message-ID"].strip())
    if port != "-":
        cmd_append(port, *sorted(glob.glob(os.path.join(out, "batch-*.eml"))))


def cmd_seen(port):
    for mid, is_seen in seen(port).items():
        print("%s %s" % (mid, "seen" if is_seen else "unseen"))


def cmd_mails(d):
    for m in mails(d):
        print(json.dumps(m, ensure_ascii=False))


def cmd_queue(db, sql, *args):
    for row in queue_rows(db, sql, *args):
        print(json.dumps(row, ensure_ascii=False))


# ---- for the inline checks -------------------------------------------------

FAILED = []


def check(cond, what):
    print(("ok - " if cond else "FAIL - ") + what)
    if not cond:
        FAILED.append(what)
    return cond


def mails(d):
    out = []
    for f in sorted(glob.glob(os.path.join(d, "*.eml"))):
        raw = open(f, "rb").read()
        m = email.message_from_bytes(raw, policy=email.policy.default)
        env = json.load(open(f[:-4] + ".json"))
        body = m.get_body(("plain",))
        out.append({
            "file": os.path.basename(f),
            "message_id": str(m["Message-ID"] or ""),
            "in_reply_to": str(m["In-Reply-To"] or ""),
            "references": str(m["References"] or ""),
            "from": m["From"].addresses[0].addr_spec if m["From"] else "",
            "to": m["To"].addresses[0].addr_spec if m["To"] else "",
            "subject": str(m["Subject"] or ""),
            "auto_submitted": str(m["Auto-Submitted"] or ""),
            "rcpt_tos": env.get("rcpt_tos"),
            "crlf_only": b"\n" not in raw.replace(b"\r\n", b""),
            "body": body.get_content() if body is not None else "",
        })
    return out


def queue_rows(db, sql, *args):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        cur = con.execute(sql, args)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur]
    finally:
        con.close()


def seen(port):
    """{Message-ID: True when \\Seen} for every message in INBOX."""
    m = imap(port)
    typ, _ = m.select("INBOX", readonly=True)
    if typ != "OK":
        raise RuntimeError("EXAMINE INBOX failed")
    out = {}
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    if typ == "OK":
        for item in data:
            if isinstance(item, tuple):
                mid = re.search(rb"<[^>]*>", item[1])
                out[mid.group(0).decode() if mid else "-"] = "\\Seen" in item[0].decode()
    m.logout()
    return out


def cli_json(*argv):
    """Run replyd with argv; its standard output as a list of JSON objects."""
    r = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (argv[1:3], r.returncode, r.stderr.decode()[-500:]))
    return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]


def header(path, name):
    raw = open(path, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return str(msg[name] or "")


def main(argv):
    cmds = {"append": cmd_append, "batch": cmd_batch, "seen": cmd_seen,
            "mails": cmd_mails, "queue": cmd_queue}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
