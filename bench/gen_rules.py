#!/usr/bin/env python3
"""gen_rules.py DIR [--no-lua]

Writes a realistic seller rule set for the `replyd process` benchmark into DIR:

  DIR/replyd.yaml               the seller's configuration (built-in rules kept on), pointing at
  DIR/rules/*.yaml              50 YAML rules in five files
  DIR/rules/*.lua               5 Lua rules (left out with --no-lua)
  DIR/replyd-yaml.yaml          the same configuration with the 50 YAML rules only
  DIR/replyd-builtin.yaml       the same configuration with the built-in rules only

The rules are what a pan-European + Japanese seller accumulates over a few years: escalation of
legal threats and chargebacks, marketplace-specific withdrawal wording, night and weekend
handling, product keywords in six languages, and tagging rules with `continue: true`. Most of
them match few messages, and most sit above the built-in rules (priority 100 and up), so the
engine evaluates nearly all of them for nearly every message before a built-in rule decides:
the realistic worst case for rule evaluation. Only template ids of the built-in library are
used (ack_overnight, holiday_ooo, answer_<intent>, "answer_{intent}").

Check the result with `replyd check --config DIR/replyd.yaml`.
"""
import os
import sys

# ---- YAML rules ---------------------------------------------------------------------------
# Each rule is written out as YAML text; the helpers keep the files readable.


def q(s):
    """A YAML double-quoted scalar."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flow(items):
    return "[" + ", ".join(q(i) for i in items) + "]"


def rule(name, priority, when, then, description=None):
    out = ["  - name: %s" % name]
    if description:
        out.append("    description: %s" % q(description))
    out.append("    priority: %d" % priority)
    out.append("    when:")
    for line in when:
        out.append("      " + line)
    out.append("    then:")
    for line in then:
        out.append("      " + line)
    return "\n".join(out)


def replies(*pairs):
    """replies(("ack_overnight", "auto_send"), ("answer_{intent}", "approve"))"""
    lines = ["replies:"]
    for tpl, action in pairs:
        lines.append("  - { template: %s, action: %s }" % (q(tpl), action))
    return lines


def tags(*t):
    return ["tags: [%s]" % ", ".join(t)]


def kw_any(*words):
    return ["keywords:", "  any: " + flow(words)]


def kw_all(*words):
    return ["keywords:", "  all: " + flow(words)]


def kw_any_all(any_words, all_words):
    return ["keywords:", "  any: " + flow(any_words), "  all: " + flow(all_words)]


CONT = ["continue: true"]

FILES = {}

# 10: escalation (priorities 150-200): rare words, urgent handling
FILES["10-escalation.yaml"] = [
    rule("legal-threat", 200,
         kw_any("lawyer", "attorney", "legal action", "anwalt", "rechtsanwalt",
                "rechtliche schritte", "avocat", "action en justice", "avvocato",
                "azione legale", "abogado", "acciones legales", "弁護士", "訴訟"),
         replies(("answer_{intent}", "approve")) + ["priority: urgent"] + tags("legal"),
         "Anything that mentions lawyers goes to the team lead, urgently."),
    rule("chargeback-mention", 195,
         kw_any("chargeback", "charge back", "rückbuchung", "rucklastschrift",
                "rétrofacturation", "opposition bancaire", "storno carta", "riaddebito",
                "contracargo", "devolución de cargo", "チャージバック"),
         ["priority: urgent"] + tags("chargeback") + CONT),
    rule("a-to-z-claim", 194,
         ["high_risk: false"]
         + kw_any("a-to-z", "a to z claim", "a-bis-z", "a-z-garantie", "garantie a à z",
                "garanzia dalla a alla z", "garantía de la a a la z", "マーケットプレイス保証"),
         ["priority: urgent"] + tags("atoz") + CONT,
         "A claim the classifier did not flag as high-risk (a safety net): urgent."),
    rule("review-threat", 193,
         ["high_risk: false"]
         + kw_any("one star", "1 star", "1-star", "negative feedback", "bad review",
                "negative bewertung", "schlechte bewertung", "avis négatif", "une étoile",
                "recensione negativa", "una stella", "reseña negativa", "una estrella",
                "悪い評価", "星1"),
         ["priority: high"] + tags("review_threat") + CONT,
         "A review threat the classifier did not flag as high-risk (a safety net)."),
    rule("safety-hazard", 190,
         ["intent: [damaged_defective, complaint_feedback]"]
         + kw_any("fire", "smoke", "burning smell", "electric shock", "caught fire",
                  "brand", "rauch", "stromschlag", "verbrannt", "incendie", "fumée",
                  "décharge électrique", "incendio", "fumo", "scossa", "humo",
                  "descarga eléctrica", "発火", "煙", "感電"),
         replies(("answer_damaged_defective", "approve")) + ["priority: urgent"]
         + tags("safety"),
         "Possible product safety incidents: never automatic, always urgent."),
    rule("press-or-influencer", 185,
         kw_any("journalist", "blogger", "influencer", "youtube channel", "instagram",
                "presse", "redaktion", "journaliste", "giornalista", "periodista",
                "ブロガー"),
         replies(("answer_{intent}", "approve")) + ["priority: high"] + tags("press")),
    rule("bulk-b2b-order", 180,
         ["intent: [product_question, other]"]
         + kw_any("bulk order", "wholesale", "quantity discount", "großbestellung",
                  "mengenrabatt", "commande en gros", "remise quantité", "all'ingrosso",
                  "sconto quantità", "al por mayor", "descuento por cantidad", "大量注文",
                  "まとめ買い"),
         replies(("answer_product_question", "approve")) + ["priority: high"] + tags("b2b")),
    rule("vat-invoice-business", 175,
         ["intent: invoice_request"]
         + kw_any("vat number", "vat id", "ust-idnr", "umsatzsteuer-id",
                  "numéro de tva", "tva intracommunautaire", "partita iva", "número de iva",
                  "cif", "nif", "適格請求書", "インボイス"),
         replies(("answer_invoice_request", "approve")) + ["priority: high"] + tags("vat")),
    rule("spam-or-phishing", 170,
         ["intent: other", "high_risk: false"]
         + kw_any("unsubscribe", "click here", "bitcoin", "lottery", "seo services",
                  "gewinnspiel", "cliquez ici", "clicca qui", "haga clic aquí", "当選"),
         ["no_reply: true"] + tags("spam")),
    rule("account-security", 165,
         kw_any("hacked", "phishing", "password", "gehackt", "passwort", "piraté",
                "mot de passe", "hackerato", "hackeado", "contraseña", "乗っ取り",
                "パスワード"),
         replies(("answer_{intent}", "approve")) + ["priority: urgent"] + tags("security")),
]

# 20: marketplaces (priorities 120-160)
FILES["20-marketplaces.yaml"] = [
    rule("jp-invoice-request", 160,
         ["marketplace: amazon.co.jp", "intent: invoice_request"],
         replies(("answer_invoice_request", "approve")) + tags("jp", "invoice")),
    rule("jp-cancel-in-hours", 158,
         ["marketplace: amazon.co.jp", "intent: cancel_order", "business_hours: open"],
         replies(("answer_cancel_order", "approve")) + ["priority: high"] + tags("jp", "cancel")),
    rule("uk-late-return", 156,
         ["marketplace: amazon.co.uk", "intent: return_request"]
         + kw_any("30 days", "after a month", "too late", "return window"),
         replies(("answer_return_request", "approve")) + tags("late_return")),
    rule("de-widerruf", 154,
         ["marketplace: amazon.de"]
         + kw_any("widerruf", "widerrufsrecht", "widerrufe", "widerrufen", "widerrufsbelehrung"),
         replies(("answer_return_request", "approve")) + ["priority: high"] + tags("widerruf")),
    rule("fr-retractation", 152,
         ["marketplace: amazon.fr"]
         + kw_any("droit de rétractation", "rétractation", "me rétracter"),
         replies(("answer_return_request", "approve")) + ["priority: high"]
         + tags("retractation")),
    rule("it-recesso", 150,
         ["marketplace: amazon.it"]
         + kw_any("diritto di recesso", "recesso", "recedere"),
         replies(("answer_return_request", "approve")) + ["priority: high"] + tags("recesso")),
    rule("es-desistimiento", 148,
         ["marketplace: [amazon.es, amazon.com.mx]"]
         + kw_any("desistimiento", "derecho de desistimiento", "desistir"),
         replies(("answer_return_request", "approve")) + ["priority: high"]
         + tags("desistimiento")),
    rule("ca-customs", 144,
         ["marketplace: amazon.ca"]
         + kw_any("customs", "duty", "duties", "brokerage fee", "douane", "frais de courtage"),
         replies(("answer_order_status", "approve")) + tags("customs")),
    rule("au-tag", 142,
         ["marketplace: amazon.com.au"],
         tags("au") + CONT,
         "amazon.com.au is served from the UK team: tag it."),
    rule("eu-english-buyer", 138,
         ["marketplace: [amazon.de, amazon.fr, amazon.it, amazon.es]", "language: en"],
         tags("foreign_language") + CONT),
]

# 30: time of day, weekdays, holidays (priorities 71-136; some below the built-in holiday rule)
FILES["30-time.yaml"] = [
    rule("night-order-status-de", 136,
         ["local_time: { from: \"00:00\", to: \"05:00\", clock: team }",
          "intent: order_status", "language: de", "high_risk: false"],
         replies(("ack_overnight", "auto_send"), ("answer_order_status", "approve"))
         + tags("night")),
    rule("weekend-returns-de", 134,
         ["weekday: [sat, sun]", "intent: return_request", "marketplace: amazon.de",
          "high_risk: false"],
         replies(("ack_overnight", "auto_send"), ("answer_return_request", "approve"))
         + tags("weekend")),
    rule("jp-cancel-buyer-daytime", 132,
         ["local_time: { from: \"09:00\", to: \"18:00\", clock: buyer }",
          "marketplace: amazon.co.jp", "intent: cancel_order"],
         replies(("answer_cancel_order", "approve")) + ["priority: high"] + tags("jp_day")),
    rule("holiday-damaged", 130,
         ["holiday: true", "intent: [damaged_defective, wrong_item]"],
         replies(("holiday_ooo", "auto_send"), ("answer_{intent}", "approve"))
         + ["priority: high"] + tags("holiday", "defect")),
    rule("holiday-cancel", 128,
         ["holiday: true", "intent: cancel_order"],
         replies(("holiday_ooo", "auto_send"), ("answer_cancel_order", "approve"))
         + ["priority: urgent"] + tags("holiday", "cancel")),
    rule("friday-afternoon-cancel", 126,
         ["weekday: fri", "local_time: { from: \"14:00\", to: \"18:00\" }",
          "intent: cancel_order"],
         ["priority: urgent"] + tags("cancel_before_weekend") + CONT),
    rule("lunch-break", 124,
         ["local_time: { from: \"12:30\", to: \"13:30\" }", "business_hours: closed",
          "weekday: [mon, tue, wed, thu, fri]", "intent: [order_status, product_question]"],
         tags("lunch") + CONT),
    rule("us-early-morning", 122,
         ["local_time: { from: \"05:00\", to: \"08:00\", clock: buyer }",
          "marketplace: [amazon.com, amazon.ca]", "intent: [order_status, not_received]"],
         ["priority: high"] + tags("us_early") + CONT),
    rule("sunday-complaints", 120,
         ["weekday: sun", "intent: complaint_feedback"],
         ["priority: high"] + tags("sunday") + CONT),
    rule("night-shift-jp", 75,
         ["business_hours: closed", "marketplace: amazon.co.jp",
          "intent: [order_status, product_question]", "high_risk: false"],
         replies(("ack_overnight", "auto_send"), ("answer_{intent}", "approve"))
         + tags("jp_night"),
         "Japanese buyers expect an answer within the hour: acknowledge out of hours."),
]

# 40: products and topics, keywords in six languages (priorities 100-118)
FILES["40-topics.yaml"] = [
    rule("size-exchange", 118,
         ["intent: [return_request, wrong_item]", "business_hours: open"]
         + kw_any("wrong size", "too small", "too big", "exchange", "größe", "zu klein",
                  "zu groß", "umtausch", "taille", "trop petit", "échange", "taglia",
                  "troppo piccolo", "cambio taglia", "talla", "demasiado pequeño",
                  "サイズ交換", "サイズが合わ"),
         replies(("answer_return_request", "approve")) + tags("size")),
    rule("battery-question", 117,
         ["intent: product_question"]
         + kw_any("battery", "battery life", "akku", "akkulaufzeit", "batterie",
                  "autonomie", "batteria", "batería", "バッテリー", "電池"),
         replies(("answer_product_question", "approve")) + tags("battery")),
    rule("compatibility", 116,
         ["intent: product_question"]
         + kw_any("compatible with", "work with", "kompatibel", "passt zu", "compatible avec",
                  "compatibile con", "compatible con", "対応して", "互換"),
         replies(("answer_product_question", "approve")) + tags("compat")),
    rule("warranty", 115,
         ["high_risk: false"]
         + kw_any("warranty", "guarantee", "garantie", "gewährleistung", "garanzia",
                  "garantía", "保証期間", "保証書"),
         replies(("answer_{intent}", "approve")) + tags("warranty")),
    rule("missing-parts", 114,
         kw_any("missing part", "missing piece", "screws missing", "fehlendes teil",
                "teile fehlen", "schrauben fehlen", "pièce manquante", "il manque",
                "pezzo mancante", "manca un pezzo", "pieza que falta", "falta una pieza",
                "部品が足りない", "付属品がない"),
         replies(("answer_wrong_item", "approve")) + tags("missing_parts")),
    rule("invoice-company-en", 112,
         ["intent: invoice_request", "language: en"] + kw_all("company", "name"),
         replies(("answer_invoice_request", "approve")) + tags("company_invoice")),
    rule("invoice-company-de", 111,
         ["intent: invoice_request", "language: de"] + kw_any_all(["firma", "firmen*"], ["rechnung"]),
         replies(("answer_invoice_request", "approve")) + tags("company_invoice")),
    rule("damaged-packaging-only", 110,
         ["intent: damaged_defective", "high_risk: false"]
         + kw_any("box was damaged", "packaging was damaged", "verpackung beschädigt",
                  "karton beschädigt", "emballage abîmé", "carton abîmé",
                  "confezione danneggiata", "scatola rovinata", "caja dañada",
                  "embalaje dañado", "箱が潰れ", "外箱"),
         ["priority: low"] + tags("packaging") + CONT),
    rule("refund-bank-transfer", 109,
         ["intent: refund_status"]
         + kw_any("bank transfer", "bank account", "überweisung", "bankkonto", "virement",
                  "compte bancaire", "bonifico", "conto corrente", "transferencia",
                  "cuenta bancaria", "銀行振込", "口座"),
         replies(("answer_refund_status", "approve")) + tags("bank")),
    rule("tracking-number-request", 108,
         ["intent: order_status", "has_order_id: true", "high_risk: false",
          "business_hours: open"]
         + kw_any("tracking number", "tracking link", "sendungsnummer", "trackingnummer",
                  "numéro de suivi", "lien de suivi", "numero di tracciamento",
                  "codice di tracking", "número de seguimiento", "追跡番号", "お問い合わせ番号"),
         replies(("answer_order_status", "approve")) + tags("tracking")),
    rule("address-first-message", 107,
         ["intent: address_change", "first_message: true"],
         replies(("answer_address_change", "approve")) + ["priority: high"]
         + tags("address")),
    rule("cancel-already-shipped", 106,
         ["intent: cancel_order"]
         + kw_any("already shipped", "already dispatched", "bereits versandt",
                  "schon verschickt", "déjà expédié", "già spedito", "ya enviado",
                  "ya fue enviado", "発送済み", "既に発送"),
         replies(("answer_cancel_order", "approve")) + ["priority: high"] + tags("shipped")),
]

# 50: tagging rules that run first and never decide (continue: true), priorities 236-250.
# `replyd check` runs the built-in rules' example cases against the whole rule set and expects
# their first matching rule, a `continue` rule included: the rules above the built-in ones are
# written so that none of them matches those examples (see rules/default.yaml, tests:).
FILES["50-tags.yaml"] = [
    rule("tag-repeat-contact", 250,
         kw_any("again", "second time", "third time", "already wrote", "schon wieder",
                "zum zweiten mal", "encore une fois", "déjà écrit", "di nuovo",
                "ho già scritto", "otra vez", "ya escribí", "再度", "何度も"),
         tags("repeat") + CONT),
    rule("tag-urgent-words", 248,
         kw_any("urgent", "asap", "immediately", "dringend", "sofort", "urgente",
                "immédiatement", "subito", "inmediatamente", "至急", "急ぎ"),
         ["priority: high"] + tags("urgent_word") + CONT),
    rule("tag-no-order-id", 246,
         ["has_order_id: false",
          "intent: [refund_status, cancel_order, invoice_request, address_change]"],
         tags("no_order_id") + CONT,
         "Requests we cannot act on without the order number."),
    rule("tag-high-risk-weekend", 244,
         ["high_risk: true", "weekday: [sat, sun]"],
         ["priority: urgent"] + tags("weekend_risk") + CONT),
    rule("tag-peak-season", 242,
         kw_any("black friday", "cyber monday", "prime day", "christmas present",
                "weihnachtsgeschenk", "cadeau de noël", "regalo di natale",
                "regalo de navidad", "クリスマス"),
         tags("peak") + CONT),
    rule("tag-follow-up", 240,
         ["first_message: false", "not: { high_risk: true }"],
         tags("follow_up") + CONT),
    rule("tag-jp-night-buyer", 238,
         ["marketplace: amazon.co.jp", "local_time: { from: \"23:00\", to: \"06:00\", clock: buyer }"],
         tags("jp_late") + CONT),
    rule("tag-premium-product", 236,
         ["not: { intent: [thanks, other] }"]
         + kw_any("espresso machine", "robot vacuum", "e-bike", "kaffeevollautomat",
                  "saugroboter", "machine à café", "macchina da caffè", "cafetera",
                  "ロボット掃除機"),
         ["priority: high"] + tags("premium") + CONT),
]


def rules_file(name, rules, tests=""):
    head = ("# %s: generated by bench/gen_rules.py (replyd benchmark seller rule set).\n"
            "# Reference: docs/rules.md\n\nrules:\n" % name)
    return head + "\n\n".join(rules) + "\n" + tests


# A few example cases that `replyd check` runs: each exercises a seller rule above a
# built-in one.
TESTS_10 = """
tests:
  - name: a German buyer who mentions a lawyer goes to the team lead
    now: "2026-11-24T10:15:00+01:00"
    message:
      marketplace: amazon.de
      subject: "Letzte Aufforderung (Bestellung: 302-4417829-5560213)"
      body: Die Lampe kam zerbrochen an. Wenn ich bis Freitag nichts von Ihnen höre, schalte ich meinen Anwalt ein.
    expect:
      rule: legal-threat
"""

TESTS_20 = """
tests:
  - name: a German withdrawal notice is drafted as a return
    now: "2026-11-24T10:15:00+01:00"
    message:
      marketplace: amazon.de
      subject: Widerruf
      body: Hiermit widerrufe ich den Kaufvertrag über die Lampe. Bitte senden Sie mir ein Rücksendeetikett.
    expect:
      rule: de-widerruf
      actions: [approve]
"""

# ---- Lua rules ----------------------------------------------------------------------------

LUA = {}

LUA["60-vip.lua"] = r'''-- Repeat customers who say so get a "vip" tag; everything else runs on.
-- Generated by bench/gen_rules.py (replyd benchmark seller rule set).
local words = { "stammkunde", "treuer kunde", "loyal customer", "regular customer",
                "client fidèle", "cliente abituale", "cliente habitual", "常連" }

rule {
  name = "lua-vip-tag",
  priority = 230,
  on_message = function(msg, ctx)
    local body = string.lower(msg.body or "")
    for _, w in ipairs(words) do
      if string.find(body, w, 1, true) then
        return { tags = { "vip" }, continue = true }
      end
    end
    return nil
  end
}
'''

LUA["61-order-mismatch.lua"] = r'''-- A message that quotes an order number other than the one it is about is
-- drafted for a human (the buyer may have mixed up two orders).
-- Generated by bench/gen_rules.py (replyd benchmark seller rule set).
rule {
  name = "lua-order-mismatch",
  priority = 228,
  on_message = function(msg, ctx)
    if not msg.order_id or msg.order_id == "" then
      return nil
    end
    for other in string.gmatch(msg.body or "", "%d%d%d%-%d%d%d%d%d%d%d%-%d%d%d%d%d%d%d") do
      if other ~= msg.order_id then
        return { replies = { { template = "answer_{intent}", action = "approve" } },
                 tags = { "order_mismatch" } }
      end
    end
    return nil
  end
}
'''

LUA["62-late-shift.lua"] = r'''-- Between 22:00 and 06:00 on the team's clock, a cancellation request is
-- urgent: the warehouse ships at 06:00.
-- Generated by bench/gen_rules.py (replyd benchmark seller rule set).
rule {
  name = "lua-late-cancel",
  priority = 226,
  on_message = function(msg, ctx)
    if msg.intent ~= "cancel_order" or msg.high_risk then
      return nil
    end
    local h = ctx.team.hour
    if (h >= 22 or h < 6) and ctx.has_template("answer_cancel_order") then
      return { replies = { { template = "answer_cancel_order", action = "approve" } },
               tags = { "late_cancel" } }
    end
    return nil
  end
}
'''

LUA["63-competitor.lua"] = r'''-- Mentions of other shops or marketplaces: a human answers.
-- Generated by bench/gen_rules.py (replyd benchmark seller rule set).
local shops = { "ebay", "aliexpress", "temu", "otto.de", "cdiscount", "rakuten", "zalando" }

rule {
  name = "lua-competitor",
  priority = 224,
  on_message = function(msg, ctx)
    local text = string.lower((msg.subject or "") .. " " .. (msg.body or ""))
    for _, s in ipairs(shops) do
      if string.find(text, s, 1, true) then
        return { replies = { { template = "answer_{intent}", action = "approve" } },
                 tags = { "competitor" } }
      end
    end
    return nil
  end
}
'''

LUA["64-shouting.lua"] = r'''-- A message written mostly in capitals, or with many exclamation marks,
-- from a buyer whose local time is late evening, gets high priority.
-- Generated by bench/gen_rules.py (replyd benchmark seller rule set).
rule {
  name = "lua-shouting",
  priority = 222,
  on_message = function(msg, ctx)
    local body = msg.body or ""
    local _, bangs = string.gsub(body, "!", "")
    local _, upper = string.gsub(body, "%u", "")
    local _, lower = string.gsub(body, "%l", "")
    if bangs < 4 and upper < 40 then
      return nil
    end
    if upper > lower and ctx.buyer.hour >= 20 then
      return { replies = { { template = "answer_{intent}", action = "approve" } },
               tags = { "shouting" } }
    end
    return nil
  end
}
'''

CONFIG = """# Seller configuration for the replyd process benchmark (generated by bench/gen_rules.py).
# Built-in rules stay on; the seller's {nyaml} YAML rules{lua_note} come from rules/.
seller:
  name: Nordlicht Home

team:
  time_zone: Europe/Berlin

holidays:
  - name: Christmas
    from: "12-24"
    to: "12-26"
  - name: New Year
    from: "12-31"
    to: "01-01"
  - name: Easter 2026
    from: "2026-04-03"
    to: "2026-04-06"
  - name: Company summer break
    from: "2026-08-10"
    to: "2026-08-14"

marketplaces:
  amazon.com.au: {{ language: en, time_zone: Australia/Sydney }}

rules:
  builtin: true
  paths: [rules/]
"""


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    opts = [a for a in argv[1:] if a.startswith("--")]
    if len(args) != 1 or any(o not in ("--no-lua",) for o in opts):
        sys.stderr.write(__doc__)
        return 2
    out = args[0]
    with_lua = "--no-lua" not in opts
    rdir = os.path.join(out, "rules")
    os.makedirs(rdir, exist_ok=True)
    for old in os.listdir(rdir):
        if old.endswith((".yaml", ".lua")):
            os.remove(os.path.join(rdir, old))
    nyaml = 0
    names = set()
    for fname, rules in FILES.items():
        for r in rules:
            n = r.split("\n", 1)[0].split("name: ", 1)[1]
            assert n not in names, n
            names.add(n)
        nyaml += len(rules)
        tests = TESTS_10 if fname.startswith("10") else TESTS_20 if fname.startswith("20") else ""
        with open(os.path.join(rdir, fname), "w", encoding="utf-8") as f:
            f.write(rules_file(fname, rules, tests))
    assert nyaml == 50, nyaml
    if with_lua:
        for fname, text in LUA.items():
            with open(os.path.join(rdir, fname), "w", encoding="utf-8") as f:
                f.write(text)
    with open(os.path.join(out, "replyd.yaml"), "w", encoding="utf-8") as f:
        f.write(CONFIG.format(nyaml=nyaml, lua_note=" and %d Lua rules" % len(LUA) if with_lua else ""))
    # the same seller without the Lua rules, and without any rule of its own (built-in rules
    # only), so that the benchmark can tell what each part costs
    yaml_paths = ", ".join("rules/" + f for f in FILES)
    with open(os.path.join(out, "replyd-yaml.yaml"), "w", encoding="utf-8") as f:
        f.write(CONFIG.format(nyaml=nyaml, lua_note="").replace(
            "paths: [rules/]", "paths: [%s]" % yaml_paths))
    with open(os.path.join(out, "replyd-builtin.yaml"), "w", encoding="utf-8") as f:
        f.write(CONFIG.format(nyaml=0, lua_note="").replace(
            "Built-in rules stay on; the seller's 0 YAML rules come from rules/.",
            "Built-in rules only.").replace("paths: [rules/]", "paths: []"))
    sys.stderr.write("gen_rules.py: %d YAML rules, %d Lua rules in %s\n"
                     % (nyaml, len(LUA) if with_lua else 0, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
