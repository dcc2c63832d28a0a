#!/usr/bin/python3
"""soak_check.py — the data side of bench/soak.sh (the `replyd run` soak benchmark:
IMAP -> queue -> SMTP on loopback). The shell script starts and stops the servers and replyd;
this script fills the INBOX, watches the run, checks exactly-once delivery and summarises.

  fill CACHE MAILDIR [CLOCK]     put the messages of the generated Maildir CACHE (gen_eml.py:
                                 new/ and cur/) into MAILDIR/new/ as unseen mail (hard links,
                                 or copies across file systems), mode 0644, owned like
                                 MAILDIR/new; writes their Message-IDs to CACHE/ids. The first
                                 time, with CLOCK (Unix seconds), it also rewrites each Date:
                                 header in CACHE to a time in the 20 hours before CLOCK, spread
                                 evenly: mail that came in overnight (gen_eml.py spreads the
                                 dates over 2026; acknowledgements of mail older than the SLA's
                                 24 hours are expired, not sent, and old mail raises alerts)
  preindex PORT                  log in to the Dovecot of tests/servers/dovecot.sh and SELECT
                                 INBOX (Dovecot moves new/ to cur/ and indexes); prints EXISTS
  monitor OPTIONS                every 0.25 s: replyd's progress (queue file, read-only) and the
                                 SMTP server's counters; every second a sample line with
                                 VmRSS/VmHWM and CPU times (/proc) into --samples; exits 0 when
                                 every message is stored and no reply is due or being sent,
                                 1 on a time-out or when replyd has been gone for 5 s
  verify OPTIONS                 the exactly-once checks; prints "ok - ..." / "FAIL - ..." lines,
                                 writes a JSON summary (--json), exits 1 if a check failed
  rss SAMPLES                    markdown rows: RSS at 10/50/90 % of each replyd process's life,
                                 at its end, its peak, and end minus 10 % (flatness)
  smtp-alone PORT MAILDIR N      send the first N messages replyd sent (MAILDIR = the SMTP
                                 server's --out folder: NNNNNN.eml + .json) again with smtplib
                                 over one connection; prints "seconds messages/s"

Memory: everything is read into plain Python sets and lists; 100 000 messages take a few tens
of MB. Errors: a missing file or an unexpected queue schema raises (a Python traceback, exit
status 1); checks that fail are reported and give exit status 1.
"""
import glob
import json
import os
import re
import smtplib
import sqlite3
import sys
import time

MSGID_RE = re.compile(rb"^message-id:[ \t]*(.*?)\r?$", re.I | re.M)


def header_block(data):
    """The header block of a message (up to the first empty line)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        k = data.find(sep)
        if k >= 0:
            return data[:k + 1]
    return data


def message_id(data):
    m = MSGID_RE.search(header_block(data))
    if not m:
        return None
    v = m.group(1).strip().decode("ascii", "replace")
    return v[1:-1] if v.startswith("<") and v.endswith(">") else v


# ---- fill ----------------------------------------------------------------------------------

DATE_RE = re.compile(rb"^Date:[^\n]*\n", re.I | re.M)


def redate(path, when):
    """Rewrite the first Date: header of the message in path to the Unix time when."""
    import email.utils
    with open(path, "rb") as f:
        data = f.read()
    head = header_block(data)
    m = DATE_RE.search(head)
    if not m:
        sys.exit("soak_check fill: %s has no Date header" % path)
    new = ("Date: %s\n" % email.utils.formatdate(when, usegmt=True)).encode()
    with open(path + ".tmp", "wb") as f:
        f.write(data[:m.start()] + new + data[m.end():])
    os.rename(path + ".tmp", path)


def cmd_fill(cache, maildir, clock=None):
    files = []
    for sub in ("new", "cur"):
        d = os.path.join(cache, sub)
        for name in sorted(os.listdir(d)):
            files.append((os.path.join(d, name), name.split(",")[0].split(":")[0]))
    idsf = os.path.join(cache, "ids")
    if not os.path.exists(idsf):
        if clock is not None:
            span = 20 * 3600
            for k, (path, _) in enumerate(files):
                redate(path, int(clock) - span + k * (span - 60) // max(len(files), 1))
        ids = []
        for path, _ in files:
            with open(path, "rb") as f:
                mid = message_id(f.read(16384))
            if not mid:
                sys.exit("soak_check fill: %s has no Message-ID" % path)
            ids.append(mid)
        if len(set(ids)) != len(ids):
            sys.exit("soak_check fill: the generator wrote %d duplicate Message-IDs"
                     % (len(ids) - len(set(ids))))
        with open(idsf + ".tmp", "w") as f:
            f.write("\n".join(ids) + "\n")
        os.rename(idsf + ".tmp", idsf)
    new = os.path.join(maildir, "new")
    st = os.stat(new)
    as_root = os.geteuid() == 0
    linked = True
    for path, base in files:
        dst = os.path.join(new, base)
        if linked:
            try:
                os.link(path, dst)
            except OSError:
                linked = False
        if not linked:
            with open(path, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())
        os.chmod(dst, 0o644)
        if as_root:
            os.chown(dst, st.st_uid, st.st_gid)
    print(len(files))


# ---- preindex ------------------------------------------------------------------------------

def cmd_preindex(port):
    import imaplib
    c = imaplib.IMAP4("127.0.0.1", int(port))
    c.login("relay", "secret")
    typ, data = c.select("INBOX")
    if typ != "OK":
        sys.exit("soak_check preindex: SELECT failed: %r" % data)
    c.logout()
    print(int(data[0]))


# ---- monitor -------------------------------------------------------------------------------

def opts(argv, names):
    o = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("--") or a[2:] not in names:
            sys.exit("soak_check: unknown option %s" % a)
        if names[a[2:]]:
            o[a[2:]] = argv[i + 1]
            i += 2
        else:
            o[a[2:]] = True
            i += 1
    return o


def proc_status(pid):
    """(VmRSS kB, VmHWM kB) or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = hwm = None
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
            return (rss, hwm) if rss is not None else None
    except (OSError, ValueError):
        return None


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """(user + system seconds, parent pid) or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        rest = s[s.rindex(")") + 2:].split()
        return (int(rest[11]) + int(rest[12])) / TICK, int(rest[1])
    except (OSError, ValueError, IndexError):
        return None


def children_cpu(ppid):
    """CPU seconds of the live children of ppid (Dovecot's imap and login processes)."""
    total = 0.0
    for p in os.listdir("/proc"):
        if p.isdigit():
            c = proc_cpu(int(p))
            if c and c[1] == ppid:
                total += c[0]
    return total


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def smtp_messages(path):
    try:
        with open(path) as f:
            return json.load(f).get("messages", 0)
    except (OSError, ValueError):
        return 0


def queue_progress(db, now, final):
    """(stored, due, sending, sent) or None while the queue file is not ready. Cheap queries
    only while the run goes on (the highest inbound id; the due replies through the partial
    index replies_due), so that watching costs next to nothing; 'sending' and 'sent' need a
    scan of the replies and are counted (final) only once nothing is due."""
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=2)
        try:
            stored = c.execute("SELECT coalesce(max(id), 0) FROM inbound").fetchone()[0]
            due = c.execute("SELECT count(*) FROM replies WHERE state = 'approved'"
                            " AND next_attempt_at <= ?1", (now,)).fetchone()[0]
            sending = sent = None
            if final and due == 0:
                sending, sent = c.execute(
                    "SELECT count(*) FILTER (WHERE state = 'sending'),"
                    " count(*) FILTER (WHERE state = 'sent') FROM replies").fetchone()
        finally:
            c.close()
        return stored, due, sending, sent
    except sqlite3.Error:
        return None


def cmd_monitor(argv):
    o = opts(argv, {"pidfile": 1, "queue": 1, "stats": 1, "n": 1, "samples": 1, "progress": 1,
                    "result": 1, "t0": 1, "now": 1, "timeout": 1, "smtp-pid": 1,
                    "dovecot-pid": 1, "store-only": 0})
    n = int(o["n"])
    t0 = float(o["t0"])
    now = int(o["now"])
    timeout = float(o["timeout"])
    store_only = "store-only" in o
    smtp_pid = int(o.get("smtp-pid", "0"))
    dovecot_pid = int(o.get("dovecot-pid", "0"))
    t_stored = t_sent = None
    last_sample = -1.0
    gone_since = None
    samples = open(o["samples"], "w")
    samples.write("t\tpid\trss_kb\thwm_kb\tstored\treceived\tcpu_replyd\tcpu_smtp\tcpu_dovecot\n")
    stored = due = 0
    sending = sent = None
    while True:
        t = time.time() - t0
        pid = read_int(o["pidfile"])
        p = queue_progress(o["queue"], now, stored >= n and not store_only)
        if p:
            stored, due, sending, sent = p
        received = smtp_messages(o["stats"])
        if t_stored is None and stored >= n:
            t_stored = t
        if t_sent is None and stored >= n and \
                (store_only or (due == 0 and sending == 0 and sent is not None and
                                received >= sent)):
            t_sent = t
        with open(o["progress"] + ".tmp", "w") as f:
            f.write("%d %d\n" % (stored, received))
        os.rename(o["progress"] + ".tmp", o["progress"])
        ps = proc_status(pid) if pid else None
        if ps is None:
            gone_since = gone_since if gone_since is not None else t
            if t - gone_since > 5:
                sys.stderr.write("soak_check monitor: replyd (pid %s) has been gone for 5 s\n" % pid)
                return 1
        else:
            gone_since = None
        if ps and (t - last_sample >= 1.0 or t_sent is not None):
            last_sample = t
            cr = proc_cpu(pid)
            cs = proc_cpu(smtp_pid) if smtp_pid else None
            cd = children_cpu(dovecot_pid) if dovecot_pid else 0.0
            samples.write("%.2f\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\n" % (
                t, pid, ps[0], ps[1], stored, received, cr[0] if cr else 0.0,
                cs[0] if cs else 0.0, cd))
            samples.flush()
        if t_sent is not None:
            break
        if t > timeout:
            sys.stderr.write("soak_check monitor: time-out after %.0f s: %d of %d stored, %s due,"
                             " %s sending, %s sent, %d received\n"
                             % (t, stored, n, due, sending, sent, received))
            return 1
        time.sleep(0.25)
    samples.close()
    with open(o["result"], "w") as f:
        json.dump({"t_stored": t_stored, "t_sent": t_sent, "stored": stored, "sent": sent,
                   "received": received, "cpu_monitor": time.process_time()}, f)
    return 0


# ---- verify --------------------------------------------------------------------------------

def cmd_verify(argv):
    o = opts(argv, {"queue": 1, "ids": 1, "maildir": 1, "mail": 1, "stats": 1, "n": 1,
                    "json": 1, "killed": 0, "store-only": 0, "status": 1})
    n = int(o["n"])
    killed = "killed" in o
    store_only = "store-only" in o
    fails = []

    def check(ok, what):
        print(("ok - " if ok else "FAIL - ") + what)
        if not ok:
            fails.append(what)

    with open(o["ids"]) as f:
        gen = [x for x in f.read().split("\n") if x]
    c = sqlite3.connect("file:%s?mode=ro" % o["queue"], uri=True)
    rows = [r[0] for r in c.execute("SELECT msg_id FROM inbound")]
    dist = set(rows)
    check(len(gen) == n, "the generator wrote %d messages (want %d)" % (len(gen), n))
    check(len(rows) == n and len(dist) == n,
          "inbound rows %d, distinct Message-IDs %d (want %d each)" % (len(rows), len(dist), n))
    check(dist == set(gen), "the stored Message-IDs are the generated ones (%d missing, %d unknown)"
          % (len(set(gen) - dist), len(dist - set(gen))))
    states = dict(c.execute("SELECT state, count(*) FROM replies GROUP BY state").fetchall())
    sent = {r[0] for r in c.execute("SELECT message_id FROM replies WHERE state = 'sent'")}
    interrupted = {r[0] for r in c.execute(
        "SELECT message_id FROM replies WHERE attention = 'interrupted'")}
    auto = c.execute("SELECT count(*) FROM replies WHERE automatic = 1").fetchone()[0]
    later = c.execute("SELECT count(*) FROM replies WHERE state = 'approved'").fetchone()[0]
    failed = dict(c.execute("SELECT coalesce(attention, '-'), count(*) FROM replies"
                            " WHERE state = 'failed' GROUP BY 1").fetchall())
    c.close()
    check(states.get("sending", 0) == 0, "no reply left in 'sending' (%d)" % states.get("sending", 0))

    received = []
    if not store_only:
        for path in sorted(glob.glob(os.path.join(o["mail"], "*.eml"))):
            with open(path, "rb") as f:
                mid = message_id(f.read(8192))
            received.append("<%s>" % mid if mid else path)
        rset = set(received)
        with open(o["stats"]) as f:
            server_count = json.load(f)["messages"]
        check(server_count == len(received),
              "the SMTP server counted %d messages and stored %d" % (server_count, len(received)))
        check(len(rset) == len(received),
              "no reply reached the SMTP server twice (%d duplicates)" % (len(received) - len(rset)))
        check(sent <= rset, "every sent reply reached the SMTP server (%d sent, %d not received)"
              % (len(sent), len(sent - rset)))
        if killed:
            extra = rset - sent
            check(extra <= interrupted,
                  "everything received was sent or flagged interrupted (%d received beyond 'sent',"
                  " %d of them flagged interrupted, %d flagged in all)"
                  % (len(extra), len(extra & interrupted), len(interrupted)))
        else:
            check(rset == sent, "the SMTP server received exactly the sent replies (%d received,"
                  " %d sent)" % (len(rset), len(sent)))
            check(not interrupted, "no reply flagged interrupted (%d)" % len(interrupted))
        check(later == 0, "no automatic reply left waiting for a retry (%d)" % later)

    md = o["maildir"]
    new = os.listdir(os.path.join(md, "new"))
    cur = os.listdir(os.path.join(md, "cur"))
    seen = [x for x in cur if re.search(r":2,[A-Za-z]*S", x)]
    check(not new, "nothing left in the INBOX's new/ (%d)" % len(new))
    check(len(cur) == n and len(seen) == n,
          "every INBOX message flagged \\Seen (%d in cur/, %d with S, want %d)"
          % (len(cur), len(seen), n))
    print("info - replies by state: %s; automatic %d; failed by attention: %s"
          % (", ".join("%s %d" % kv for kv in sorted(states.items())), auto,
             ", ".join("%s %d" % kv for kv in sorted(failed.items())) or "none"))
    status = {}
    if o.get("status"):
        with open(o["status"]) as f:
            s = json.load(f)
        src = {x["name"]: x for x in s["sources"]}["relay"]
        status = {"fetched": src.get("fetched"), "stored": src.get("stored")}
        check(src.get("stored") == n, "replyd status: source 'relay' stored %s (want %d)"
              % (src.get("stored"), n))
    with open(o["json"], "w") as f:
        json.dump({"states": states, "sent": len(sent), "received": len(received),
                   "interrupted": len(interrupted), "automatic": auto, "failed": failed,
                   "status": status, "fails": fails}, f)
    return 1 if fails else 0


# ---- rss -----------------------------------------------------------------------------------

def cmd_rss(path):
    """One markdown fragment per replyd process: | 10 % | 50 % | 90 % | end | peak | end - 10 % |"""
    segs = {}
    order = []
    with open(path) as f:
        next(f)
        for line in f:
            t, pid, rss, hwm = line.split("\t")[:4]
            pid = int(pid)
            if pid not in segs:
                segs[pid] = []
                order.append(pid)
            segs[pid].append((float(t), int(rss), int(hwm)))
    for k, pid in enumerate(order):
        s = segs[pid]
        a, b = s[0][0], s[-1][0]

        def at(frac):
            want = a + frac * (b - a)
            return min(s, key=lambda x: abs(x[0] - want))[1]

        mb = lambda kb: kb / 1024.0  # noqa: E731
        peak = max(x[2] for x in s)
        print("%d\t%.0f-%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%+.1f" % (
            k + 1, a, b, mb(at(0.1)), mb(at(0.5)), mb(at(0.9)), mb(s[-1][1]), mb(peak),
            mb(s[-1][1] - at(0.1))))
    return 0


# ---- smtp-alone ----------------------------------------------------------------------------

def cmd_smtp_alone(port, maildir, n):
    msgs = []
    for path in sorted(glob.glob(os.path.join(maildir, "*.eml")))[:int(n)]:
        with open(path, "rb") as f:
            data = f.read()
        with open(path[:-4] + ".json") as f:
            meta = json.load(f)
        msgs.append((meta["mail_from"], meta["rcpt_tos"], data))
    s = smtplib.SMTP("127.0.0.1", int(port))
    t = time.time()
    for frm, to, data in msgs:
        s.sendmail(frm, to, data)
    dt = time.time() - t
    s.quit()
    print("%.2f %.0f %d" % (dt, len(msgs) / dt, len(msgs)))
    return 0


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "fill" and len(args) in (2, 3):
        return cmd_fill(*args) or 0
    if cmd == "preindex" and len(args) == 1:
        return cmd_preindex(*args) or 0
    if cmd == "monitor":
        return cmd_monitor(args)
    if cmd == "verify":
        return cmd_verify(args)
    if cmd == "rss" and len(args) == 1:
        return cmd_rss(*args)
    if cmd == "smtp-alone" and len(args) == 3:
        return cmd_smtp_alone(*args)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
