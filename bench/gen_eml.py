#!/usr/bin/env python3
"""gen_eml.py N OUTDIR [--seed=S]

Writes N buyer messages as MIME e-mails (about 3 KB each on average) into the Maildir OUTDIR
(OUTDIR/new/, OUTDIR/cur/, OUTDIR/tmp/), as a marketplace relay delivers them. The mix:

  - text/plain UTF-8, quoted-printable                     (~30 %)
  - text/plain UTF-8, base64                                (~20 %)
  - multipart/alternative: text/plain (QP) + text/html (QP) (~22 %)
  - text/plain ISO-8859-15, quoted-printable (de/fr/it/es)  (~8 %)
  - text/plain UTF-8, 8bit                                  (~5 %)
  - ISO-2022-JP, 7bit, RFC 2047 ISO-2022-JP headers         (most Japanese messages)

About 90 % are framed by the relay ("------------- Begin message -------------" /
"------------- End message -------------", in the marketplace's language) with the relay's
boilerplate around the frame; about 40 % carry quoted history (attribution line and "> "
lines, or an Outlook-style header block); some end in a mobile signature. Headers include a
realistic Received/DKIM/SES block. Messages come from the same seeded templates as
gen_jsonl.py (corpus.py), so the same N and seed give the same Maildir.
"""
import base64
import binascii
import email.utils
import html
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus as C  # noqa: E402

SELLER_TO = ["orders@example-shop.test", "service@nordlicht-home.test", "shop@casaverde.test",
             "support@kumo-goods.test"]
SES_REGION = {"amazon.com": "us-east-1", "amazon.ca": "us-east-1", "amazon.com.au": "us-west-2",
              "amazon.co.jp": "us-west-2"}
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
HEX = "0123456789abcdef"


def rnd(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


# ---- header encoding ----------------------------------------------------------------------

def _chunks(s, maxbytes, enc):
    """Split s on character boundaries into pieces whose encoding stays under maxbytes."""
    out, cur = [], ""
    for ch in s:
        if cur and len((cur + ch).encode(enc)) > maxbytes:
            out.append(cur)
            cur = ""
        cur += ch
    if cur:
        out.append(cur)
    return out


def _q(b):
    r = []
    for c in b:
        ch = chr(c)
        if ch == " ":
            r.append("_")
        elif ch.isalnum() and c < 128:
            r.append(ch)
        else:
            r.append("=%02X" % c)
    return "".join(r)


def enc_words(s, charset, rng):
    """RFC 2047 encoded words, folded, for a non-ASCII header value."""
    if all(ord(c) < 128 for c in s):
        return s
    if charset == "ISO-2022-JP":
        words = ["=?ISO-2022-JP?B?%s?=" % base64.b64encode(p.encode("iso2022_jp")).decode()
                 for p in _chunks(s, 30, "iso2022_jp")]
    elif rng.random() < 0.5:
        words = ["=?UTF-8?B?%s?=" % base64.b64encode(p.encode()).decode()
                 for p in _chunks(s, 36, "utf-8")]
    else:
        words = ["=?UTF-8?Q?%s?=" % _q(p.encode()) for p in _chunks(s, 22, "utf-8")]
    return "\n ".join(words)


# ---- body text ----------------------------------------------------------------------------

def history_block(rng, m):
    lang = m.lang
    day, mon = rng.randint(1, 28), rng.randrange(12)
    reply = [s.format(name=m.name, days=rng.randint(2, 5), shop=m.shop)
             for s in C.SELLER_REPLY[lang]]
    style = rng.random()
    if lang in ("en", "de") and style < 0.25:
        # Outlook-style header block, unquoted text below it
        if lang == "en":
            head = ["-----Original Message-----" if rng.random() < 0.5 else "",
                    "From: %s <%s>" % (m.shop, m.seller_alias),
                    "Sent: %s %d %s 2026 %02d:%02d" % (rng.choice(["Monday", "Tuesday", "Friday"]), day,
                                                       C.MONTHS["en"][mon], rng.randrange(24), rng.randrange(60)),
                    "To: %s" % m.alias, "Subject: Your order %s" % m.order]
        else:
            head = ["Von: %s <%s>" % (m.shop, m.seller_alias),
                    "Gesendet: %s, %d. %s 2026 %02d:%02d" % (rng.choice(["Montag", "Dienstag", "Freitag"]), day,
                                                              C.MONTHS["de"][mon], rng.randrange(24), rng.randrange(60)),
                    "An: %s" % m.alias, "Betreff: Ihre Bestellung %s" % m.order]
        return "\n".join(h for h in head if h) + "\n\n" + "\n".join(reply)
    att = C.ATTRIBUTION[lang].format(
        wday=rng.choice(C.WDAYS_EN), day=day, mon=(C.MONTHS.get(lang) or C.MONTHS["en"])[mon][:3],
        monn=mon + 1, hh="%02d" % rng.randrange(24), mm="%02d" % rng.randrange(60),
        shop=m.shop, alias=m.seller_alias)
    return att + "\n\n" + "\n".join("> " + s for s in reply)


def mail_parts(rng, m):
    """(relay head, buyer text, relay tail) as plain text; head/tail empty if not framed."""
    # the relay writes in the marketplace's language, the buyer in theirs
    mp_lang = next(lg for lg, mps in C.MARKETPLACES.items() if m.mp in mps)
    buyer = m.body
    if m.history or rng.random() < 0.1:
        buyer += "\n\n" + history_block(rng, m)
    framed = rng.random() < 0.9
    if not framed:
        return "", buyer, "", None
    head = C.RELAY_HEAD[mp_lang].format(shop=m.shop, order=m.order, product=m.product)
    tail = C.RELAY_TAIL[mp_lang].format(mp=m.mp)
    return head, buyer, tail, C.MARKERS[mp_lang]


def plain_text(head, buyer, tail, markers):
    if not markers:
        return buyer + "\n"
    return "%s\n%s\n\n%s\n\n%s\n\n%s" % (head, markers[0], buyer, markers[1], tail)


def html_text(head, buyer, tail, markers, shop):
    def paras(t, quote_ok=True):
        out, quoted = [], []
        for block in t.split("\n\n"):
            lines = block.split("\n")
            if quote_ok and all(l.startswith(">") for l in lines):
                quoted.extend(l[1:].lstrip() for l in lines)
                continue
            out.append("<p>" + "<br>\n".join(html.escape(l, quote=False) for l in lines) + "</p>")
        if quoted:
            out.append('<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">'
                       + "<br>\n".join(html.escape(q, quote=False) for q in quoted) + "</blockquote>")
        return "\n".join(out)

    css = ("<style type=\"text/css\">body{font-family:Arial,Helvetica,sans-serif;font-size:14px;"
           "color:#111}p{margin:0 0 10px}.footer{color:#767676;font-size:12px}"
           ".msg{border-top:1px solid #ddd;border-bottom:1px solid #ddd;padding:12px 0}</style>")
    parts = ["<!DOCTYPE html>", "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">",
             css, "</head><body>"]
    if markers:
        parts.append('<table width="100%" cellpadding="0" cellspacing="0"><tr><td>')
        parts.append(paras(head, False))
        parts.append("</td></tr></table>")
        parts.append("<div>%s</div>" % html.escape(markers[0], quote=False))
    parts.append('<div class="msg">' + paras(buyer) + "</div>")
    if markers:
        parts.append("<div>%s</div>" % html.escape(markers[1], quote=False))
        foot = "\n".join("<p>%s</p>" % html.escape(p, quote=False).replace("\n", "<br>\n")
                         for p in tail.strip().split("\n\n"))
        parts.append('<div class="footer">%s</div>' % foot)
    parts.append("<div style=\"display:none\">&nbsp;&#8203;%s&nbsp;&copy; 2026</div>" % html.escape(shop))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def qp(text, charset="utf-8"):
    data = text.encode(charset)
    return binascii.b2a_qp(data).decode("ascii")


def b64(data):
    return base64.encodebytes(data).decode("ascii")


# ---- headers ------------------------------------------------------------------------------

def headers(rng, m, charset, i):
    region = SES_REGION.get(m.mp, "eu-west-1")
    ts = m.ts
    date = email.utils.formatdate(ts, usegmt=rng.random() < 0.5)
    host = "a%d-%d.smtp-out.%s.amazonses.com" % (rng.randrange(1, 99), rng.randrange(1, 250), region)
    ip = "54.240.%d.%d" % (rng.randrange(256), rng.randrange(256))
    mx_id = rnd(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 11)
    ses_id = "0102%s-%s-%s-%s-%s-000000" % (rnd(rng, HEX, 12), rnd(rng, HEX, 8), rnd(rng, HEX, 4),
                                           rnd(rng, HEX, 4), rnd(rng, HEX, 12))
    to = rng.choice(SELLER_TO)
    dkim_b = rnd(rng, B64, 344)
    dkim_b = "\n\t".join(dkim_b[k:k + 72] for k in range(0, len(dkim_b), 72))
    display = "%s - Amazon Marketplace" % m.buyer
    if m.lang == "ja":
        display = "%s - Amazonマーケットプレイス" % m.buyer
    hcs = "ISO-2022-JP" if charset == "ISO-2022-JP" else "UTF-8"
    if all(ord(c) < 128 for c in display):
        from_h = '"%s" <%s>' % (display, m.alias)
    else:
        from_h = "%s <%s>" % (enc_words(display, hcs, rng), m.alias)
    h = [
        "Return-Path: <%s@%s.amazonses.com>" % (ses_id, region),
        "Delivered-To: %s" % to,
        "Received: from %s (%s [%s])\n\tby mx1.example-shop.test (Postfix) with ESMTPS id %s\n\tfor <%s>; %s"
        % (host, host, ip, mx_id, to, date),
        "DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple;\n\ts=%s; d=marketplace.%s; t=%d;\n"
        "\th=Date:From:Reply-To:To:Message-ID:Subject:MIME-Version:Content-Type;\n\tbh=%s=;\n\tb=%s="
        % (rnd(rng, "abcdefghijklmnopqrstuvwxyz234567", 32), m.mp, ts, rnd(rng, B64, 43), dkim_b),
        "Date: %s" % date,
        "From: %s" % from_h,
        "Reply-To: %s" % m.alias,
        "To: %s" % to,
        "Message-ID: <%s@%s.amazonses.com>" % (ses_id, region),
        "Subject: %s" % enc_words(m.subject, hcs, rng),
        "MIME-Version: 1.0",
        "X-SES-Outgoing: 2026.%02d.%02d-%s" % (rng.randint(1, 12), rng.randint(1, 28), ip),
        "Feedback-ID: 1.%s.%s=:AmazonSES" % (region, rnd(rng, B64, 43)),
        "X-AMAZON-MAIL-RELAY-TYPE: notification",
        "X-AMAZON-RTE-VERSION: 2.0",
    ]
    return "\n".join(h) + "\n"


def make_mail(rng, m, i):
    head, buyer, tail, markers = mail_parts(rng, m)
    text = plain_text(head, buyer, tail, markers)
    r = rng.random()
    if m.lang == "ja" and r < 0.7:
        kind = "iso2022jp"
    elif r < 0.30:
        kind = "qp"
    elif r < 0.50:
        kind = "b64"
    elif r < 0.72:
        kind = "alt"
    elif r < 0.80 and m.lang in ("de", "fr", "it", "es"):
        kind = "latin9"
    elif r < 0.85:
        kind = "8bit"
    else:
        kind = "qp"
    if kind == "latin9":
        try:
            text.encode("iso8859_15")
        except UnicodeEncodeError:
            kind = "qp"
    if kind == "iso2022jp":
        try:
            body = text.encode("iso2022_jp").decode("ascii")
        except UnicodeEncodeError:
            kind = "b64"
    charset = "ISO-2022-JP" if kind == "iso2022jp" else "UTF-8"
    hdr = headers(rng, m, charset, i)
    if kind == "iso2022jp":
        return hdr + "Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n" + body
    if kind == "qp":
        return (hdr + "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                + qp(text))
    if kind == "b64":
        return (hdr + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                + b64(text.encode()))
    if kind == "latin9":
        return (hdr + "Content-Type: text/plain; charset=ISO-8859-15\nContent-Transfer-Encoding: quoted-printable\n\n"
                + qp(text, "iso8859_15"))
    if kind == "8bit":
        return hdr + "Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 8bit\n\n" + text
    # multipart/alternative
    boundary = "----=_Part_%d_%d.%d" % (rng.randrange(10**6), rng.randrange(10**9), m.ts)
    page = html_text(head, buyer, tail, markers, m.shop)
    return (hdr + 'Content-Type: multipart/alternative; \n\tboundary="%s"\n\n' % boundary
            + "--%s\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n" % boundary
            + qp(text) + "\n"
            + "--%s\nContent-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n" % boundary
            + qp(page) + "\n"
            + "--%s--\n" % boundary)


def main(argv):
    parsed = C.parse_args(argv, 20261121, __doc__)
    if parsed is None:
        return 2
    n, outdir, seed = parsed
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    rng = random.Random(seed)
    base = 1790000000
    for i in range(n):
        m = C.make_message(rng, i)
        data = make_mail(rng, m, i).encode("utf-8")
        name = "%d.M%06dP%dQ%d.bench.example" % (base + i // 7, (i * 7919) % 1000000, 4242, i + 1)
        if i % 3 == 0:
            path = os.path.join(outdir, "new", name)
        else:
            path = os.path.join(outdir, "cur", "%s,S=%d:2,%s" % (name, len(data), rng.choice(["S", "RS", ""])))
        with open(path, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
