#!/bin/sh
# dovecot.sh — a private Dovecot IMAP server on 127.0.0.1 for replyd's tests
# and benchmarks. Nothing of the system's Dovecot is used or touched: the
# configuration, base_dir, state, logs and mail all live in DIR, and the
# ports are free ones picked at start.
#
# usage:
#   sh dovecot.sh start DIR [--tls]   start; DIR must exist (mktemp -d)
#   sh dovecot.sh stop DIR            stop the server started in DIR
#   sh dovecot.sh deliver DIR FILE... copy messages into INBOX's new/ (right
#                                     owner and mode; prints the new names)
#   sh dovecot.sh maildir DIR         print the Maildir path of INBOX
#
# What start leaves in DIR:
#   port          the IMAP port (plain text; STARTTLS offered with --tls)
#   imaps_port    with --tls: the implicit-TLS port
#   cert.pem      with --tls: the self-signed certificate (CN and SAN
#                 127.0.0.1 and localhost), usable as a CA file
#   maildir       the Maildir path of INBOX: DIR/mail/relay/Maildir
#                 (new/ cur/ tmp/ inside; other folders are .NAME/)
#   log           the server's log
#   dovecot.conf  its configuration
# One user: relay, password secret (PLAIN/LOGIN accepted without TLS;
# 127.0.0.1 is trusted).
#
# Root and unprivileged users: as root (CI), Dovecot runs its processes as its
# usual system users and the mail as user "dovecot" (Dovecot refuses mail
# access as root), so DIR and any parent closed to others are opened for
# traversal (o+x) and DIR/mail is chowned to that user; a message written straight into new/ by root must be
# readable by others (mode 0644) — `deliver` takes care of it. As any other
# user, every Dovecot process and the mail run as that user.
#
# Many messages: dropping 100 000 files into new/ works; the first SELECT
# then takes a few seconds while Dovecot moves them to cur/ and indexes
# them. A file dropped into new/ while the server runs is seen by the next
# SELECT or NOOP.
#
# Exit status: 0 on success; non-zero with the server log on standard error
# when the server did not come up.
set -eu

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DOVECOT=${DOVECOT:-/usr/sbin/dovecot}
[ -x "$DOVECOT" ] || DOVECOT=$(command -v dovecot 2>/dev/null || echo /usr/sbin/dovecot)

die() { echo "dovecot.sh: $*" >&2; exit 1; }

abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }

free_port() {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# answers PORT: 0 once something on 127.0.0.1:PORT greets with "* OK"
answers() {
    "$PY" - "$1" <<'EOF'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.settimeout(2)
    ok = s.recv(200).startswith(b"* OK")
    s.close()
    sys.exit(0 if ok else 1)
except OSError:
    sys.exit(1)
EOF
}

# answers_tls PORT: the same through TLS (the certificate is not checked here)
answers_tls() {
    "$PY" - "$1" <<'EOF'
import socket, ssl, sys
try:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s = ctx.wrap_socket(raw)
    s.settimeout(2)
    ok = s.recv(200).startswith(b"* OK")
    s.close()
    sys.exit(0 if ok else 1)
except OSError:
    sys.exit(1)
EOF
}

mail_owner() { # prints "uid gid" of the mail user
    if [ "$(id -u)" = 0 ]; then
        if id dovecot >/dev/null 2>&1; then
            echo "$(id -u dovecot) $(id -g dovecot)"
        else
            echo "$(id -u nobody) $(id -g nobody)"
        fi
    else
        echo "$(id -u) $(id -g)"
    fi
}

cmd_start() {
    [ $# -ge 1 ] || die "usage: dovecot.sh start DIR [--tls]"
    D=$(abspath "$1")
    TLS=0
    [ "${2:-}" = "--tls" ] && TLS=1
    [ -d "$D" ] || die "$D is not a directory"
    [ -x "$DOVECOT" ] || die "dovecot not installed ($DOVECOT); Debian package dovecot-imapd"
    if [ -f "$D/master.pid" ] && kill -0 "$(cat "$D/master.pid")" 2>/dev/null; then
        die "a server already runs in $D"
    fi

    set -- $(mail_owner)
    MUID=$1
    MGID=$2
    MAILDIR=$D/mail/relay/Maildir
    mkdir -p "$D/run" "$D/state" "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
    : >"$D/log"
    printf '%s\n' "$MAILDIR" >"$D/maildir"
    printf 'relay:{PLAIN}secret:%s:%s::%s/mail/relay\n' "$MUID" "$MGID" "$D" >"$D/passwd"

    if [ "$(id -u)" = 0 ]; then
        # the mail user must reach DIR: open DIR and every parent that shuts
        # others out (a mktemp -d parent, say) for traversal only
        chmod 711 "$D"
        p=$(dirname "$D")
        while [ "$p" != / ]; do
            if [ -n "$(find "$p" -maxdepth 0 ! -perm -o+x)" ]; then
                chmod o+x "$p"
            fi
            p=$(dirname "$p")
        done
        chown -R "$MUID:$MGID" "$D/mail"
        chmod 644 "$D/passwd"
        USERS=""
    else
        ME=$(id -un 2>/dev/null) || die "the current user (uid $(id -u)) has no name"
        GR=$(id -gn 2>/dev/null) || die "the current group (gid $(id -g)) has no name"
        USERS="default_internal_user = $ME
default_internal_group = $GR
default_login_user = $ME
service anvil {
  chroot =
}
service imap-login {
  chroot =
  user = $ME
}"
    fi

    PORT=$(free_port)
    SSLCONF="ssl = no"
    IMAPS=""
    if [ $TLS = 1 ]; then
        command -v openssl >/dev/null 2>&1 || die "openssl is needed for --tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            -keyout "$D/key.pem" -out "$D/cert.pem" >"$D/openssl.log" 2>&1 ||
            { cat "$D/openssl.log" >&2; die "openssl could not make a certificate"; }
        chmod 600 "$D/key.pem"
        IMAPS_PORT=$(free_port)
        SSLCONF="ssl = yes
ssl_cert = <$D/cert.pem
ssl_key = <$D/key.pem
ssl_min_protocol = TLSv1.2"
        IMAPS="  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }"
    fi

    cat >"$D/dovecot.conf" <<EOF
# written by tests/servers/dovecot.sh; not the system's configuration
instance_name = replyd-test-$PORT
base_dir = $D/run
state_dir = $D/state
log_path = $D/log
info_log_path = $D/log
debug_log_path = $D/log
protocols = imap
listen = 127.0.0.1
ssl_client_ca_dir =
shutdown_clients = yes
$USERS
first_valid_uid = 1
last_valid_uid = 0
first_valid_gid = 1
last_valid_gid = 0
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.1/32
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $D/passwd
}
mail_location = maildir:~/Maildir
mail_fsync = never
maildir_copy_with_hardlinks = yes
namespace inbox {
  inbox = yes
  separator = .
}
$SSLCONF
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
$IMAPS
  process_min_avail = 0
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0660
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0600
  }
}
EOF
    if [ "$(id -u)" = 0 ]; then
        chmod 755 "$D/run" "$D/state"
    fi

    "$DOVECOT" -c "$D/dovecot.conf" >>"$D/log" 2>&1 || {
        cat "$D/log" >&2
        die "dovecot did not start"
    }
    i=0
    until answers "$PORT"; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            cat "$D/log" >&2
            cmd_stop "$D" || true
            die "dovecot does not answer on 127.0.0.1:$PORT"
        fi
        sleep 0.1
    done
    if [ $TLS = 1 ]; then
        i=0
        until answers_tls "$IMAPS_PORT"; do
            i=$((i + 1))
            if [ $i -gt 100 ]; then
                cat "$D/log" >&2
                cmd_stop "$D" || true
                die "dovecot does not answer TLS on 127.0.0.1:$IMAPS_PORT"
            fi
            sleep 0.1
        done
        echo "$IMAPS_PORT" >"$D/imaps_port"
    fi
    echo "$PORT" >"$D/port"
    echo "dovecot: 127.0.0.1:$PORT${IMAPS_PORT:+ (imaps $IMAPS_PORT)}, INBOX $MAILDIR"
}

cmd_stop() {
    [ $# -ge 1 ] || die "usage: dovecot.sh stop DIR"
    D=$(abspath "$1")
    [ -f "$D/dovecot.conf" ] || return 0
    PIDF=$D/run/master.pid
    PID=$(cat "$PIDF" 2>/dev/null || true)
    "$DOVECOT" -c "$D/dovecot.conf" stop >/dev/null 2>&1 ||
        { [ -n "$PID" ] && kill "$PID" 2>/dev/null; } || true
    # wait until the master is gone, so DIR can be removed
    i=0
    while [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            kill -9 "$PID" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    return 0
}

cmd_deliver() {
    [ $# -ge 2 ] || die "usage: dovecot.sh deliver DIR FILE..."
    D=$(abspath "$1")
    shift
    MAILDIR=$D/mail/relay/Maildir
    [ -d "$MAILDIR/new" ] || die "$MAILDIR is not a Maildir (start the server first)"
    set_owner=0
    [ "$(id -u)" = 0 ] && set_owner=1
    o=$(mail_owner)
    n=0
    for f in "$@"; do
        n=$((n + 1))
        name=$(date +%s).P$$Q$n.replyd-test
        cp "$f" "$MAILDIR/tmp/$name"
        chmod 644 "$MAILDIR/tmp/$name"
        [ $set_owner = 1 ] && chown "$(echo "$o" | tr ' ' ':')" "$MAILDIR/tmp/$name"
        mv "$MAILDIR/tmp/$name" "$MAILDIR/new/$name"
        echo "$name"
    done
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
deliver) shift; cmd_deliver "$@" ;;
maildir) shift; echo "$(abspath "$1")/mail/relay/Maildir" ;;
*) die "usage: dovecot.sh start DIR [--tls] | stop DIR | deliver DIR FILE... | maildir DIR" ;;
esac
