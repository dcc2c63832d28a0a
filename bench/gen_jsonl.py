#!/usr/bin/env python3
"""gen_jsonl.py N OUT [--seed=S]

Writes N buyer messages as JSON Lines to OUT ("-" for standard output): about 500 bytes a
line on average, in six languages (en, de, fr, it, es, ja), with id, marketplace, from (a relay
alias), subject, body, received_at and order_id. Messages are assembled at random from the
templates in corpus.py with a fixed seed, so the same N and seed give the same file.
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus as C  # noqa: E402

def quoted_history(rng, m):
    """A short quoted seller reply under an attribution line (as a mail client would add)."""
    lang = m.lang
    day = rng.randint(1, 28)
    mon = rng.randrange(12)
    att = C.ATTRIBUTION[lang].format(
        wday=rng.choice(C.WDAYS_EN), day=day, mon=(C.MONTHS.get(lang) or C.MONTHS["en"])[mon][:3],
        monn=mon + 1, hh="%02d" % rng.randrange(24), mm="%02d" % rng.randrange(60),
        shop=m.shop, alias=m.seller_alias)
    lines = [s.format(name=m.name, days=rng.randint(2, 5), shop=m.shop)
             for s in C.SELLER_REPLY[lang][:2]]
    return "\n\n" + att + "\n" + "\n".join("> " + s for s in lines)


def main(argv):
    parsed = C.parse_args(argv, 20261120, __doc__)
    if parsed is None:
        return 2
    n, target, seed = parsed
    out = sys.stdout if target == "-" else open(target, "w", encoding="utf-8", newline="\n")
    rng = random.Random(seed)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    buf = []
    for i in range(n):
        m = C.make_message(rng, i)
        body = m.body
        if m.history and rng.random() < 0.4:
            body += quoted_history(rng, m)
        rec = {
            "id": "bm-%07d" % (i + 1),
            "marketplace": m.mp,
            "from": m.alias,
            "subject": m.subject,
            "body": body,
            "received_at": C.iso_time(m.ts, rng) if rng.random() < 0.9 else m.ts,
            "order_id": m.order,
        }
        buf.append(dumps(rec))
        if len(buf) >= 4096:
            out.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
