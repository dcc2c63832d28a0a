#!/usr/bin/env python3
"""gen_lexicon.py N OUTDIR [--seed=S]

Writes a synthetic intent lexicon of N keywords in total (format: docs/lexicon-format.md),
spread evenly over the six languages (en, de, fr, it, es, ja) and the 13 intents, for
measuring how classification cost grows with lexicon size.

A lexicon file holds exactly one language (its `language:` key), so the N keywords are
written as six files, OUTDIR/lexicon-<lang>.yaml, together with the configuration that uses
them and nothing else:

    OUTDIR/replyd.yaml:
      classifier:
        builtin_lexicons: false
        lexicons: [lexicon-en.yaml, lexicon-de.yaml, ...]

Run `replyd classify --config OUTDIR/replyd.yaml ...`.

Per language the keywords are a few real negation cues and high-risk phrases, then intent
keywords: phrases of real buyer vocabulary (two or three words), single real words, prefix
stems ending in `*`, and invented but pronounceable words and phrases built from the
language's syllables (Japanese: kanji compounds with okurigana and katakana words). Real
vocabulary makes part of the lexicon match real messages, as a seller's own lexicon would;
invented words grow the automaton the way a large lexicon does. The same N and seed give the
same files.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus as C  # noqa: E402

LANGS = ["en", "de", "fr", "it", "es", "ja"]
INTENTS = ["order_status", "not_received", "cancel_order", "return_request", "refund_status",
           "damaged_defective", "wrong_item", "product_question", "invoice_request",
           "address_change", "complaint_feedback", "thanks", "other"]

# Real buyer vocabulary (lower case, natural spelling).
VOCAB = {
    "en": "order parcel package delivery tracking number arrived received refund return label "
          "cancel invoice receipt address broken damaged faulty missing wrong size colour "
          "replacement courier driver neighbour mailbox dispatched shipped delayed week today "
          "tomorrow please urgent still never yet already money card account charger battery "
          "screen button cable box packaging photo model compatible dimensions warranty "
          "exchange seller review feedback claim message reply answer gift birthday "
          "stopped working cracked scratched leaking".split(),
    "de": "bestellung paket lieferung sendungsverfolgung nummer angekommen erhalten erstattung "
          "rücksendung etikett stornieren rechnung quittung adresse kaputt beschädigt defekt "
          "fehlt falsch größe farbe ersatz zusteller nachbar briefkasten versendet verschickt "
          "verspätet woche heute morgen bitte dringend immer noch nie schon geld konto "
          "ladegerät akku display knopf kabel karton verpackung foto modell kompatibel maße "
          "garantie umtausch verkäufer bewertung antwort geschenk geburtstag funktioniert "
          "gebrochen zerkratzt ausgelaufen".split(),
    "fr": "commande colis livraison suivi numéro arrivé reçu remboursement retour étiquette "
          "annuler facture reçu adresse cassé abîmé défectueux manquant mauvais taille couleur "
          "remplacement livreur voisin boîte expédié envoyé retard semaine aujourd'hui demain "
          "merci urgent toujours jamais déjà argent compte chargeur batterie écran bouton "
          "câble carton emballage photo modèle compatible dimensions garantie échange vendeur "
          "avis réclamation réponse cadeau anniversaire fonctionne fissuré rayé".split(),
    "it": "ordine pacco consegna tracciamento numero arrivato ricevuto rimborso reso etichetta "
          "annullare fattura ricevuta indirizzo rotto danneggiato difettoso mancante sbagliato "
          "taglia colore sostituzione corriere vicino cassetta spedito inviato ritardo "
          "settimana oggi domani grazie urgente ancora mai già soldi conto caricatore batteria "
          "schermo pulsante cavo scatola confezione foto modello compatibile misure garanzia "
          "cambio venditore recensione reclamo risposta regalo compleanno funziona crepato "
          "graffiato".split(),
    "es": "pedido paquete entrega seguimiento número llegado recibido reembolso devolución "
          "etiqueta cancelar factura recibo dirección roto dañado defectuoso falta equivocado "
          "talla color cambio repartidor vecino buzón enviado retraso semana hoy mañana gracias "
          "urgente todavía nunca ya dinero cuenta cargador batería pantalla botón cable caja "
          "embalaje foto modelo compatible medidas garantía vendedor valoración reclamación "
          "respuesta regalo cumpleaños funciona agrietado rayado".split(),
}

SYLLABLES = {
    "en": (["b", "br", "c", "ch", "cl", "d", "f", "fl", "g", "gr", "h", "j", "k", "l", "m",
            "n", "p", "pl", "pr", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "y"],
           ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y"],
           ["", "", "n", "r", "s", "t", "ck", "ll", "nd", "ng", "st", "ght"]),
    "de": (["b", "br", "d", "f", "fl", "g", "gr", "h", "k", "kl", "l", "m", "n", "p", "pf",
            "r", "s", "sch", "schl", "sp", "st", "str", "t", "tr", "w", "z", "zw"],
           ["a", "e", "i", "o", "u", "ä", "ö", "ü", "ei", "au", "ie", "eu"],
           ["", "n", "r", "s", "t", "ch", "ck", "ng", "nd", "st", "tz", "ß", "rn", "ung", "en"]),
    "fr": (["b", "br", "c", "ch", "cl", "d", "f", "fr", "g", "gr", "j", "l", "m", "n", "p",
            "pl", "pr", "qu", "r", "s", "t", "tr", "v"],
           ["a", "e", "i", "o", "u", "é", "è", "ou", "ai", "eau", "oi", "au", "ê"],
           ["", "", "n", "r", "s", "t", "x", "ment", "tion", "que", "ble", "ette"]),
    "it": (["b", "br", "c", "ch", "d", "f", "g", "gl", "gr", "l", "m", "n", "p", "pr", "r",
            "s", "sc", "sp", "st", "t", "tr", "v", "z"],
           ["a", "e", "i", "o", "u", "ia", "io", "ie", "uo"],
           ["", "", "", "n", "r", "l", "tt", "ll", "zz", "mento", "zione", "ino", "etto"]),
    "es": (["b", "br", "c", "ch", "d", "f", "g", "gr", "j", "l", "ll", "m", "n", "ñ", "p",
            "pr", "qu", "r", "s", "t", "tr", "v"],
           ["a", "e", "i", "o", "u", "ia", "ie", "ue", "ió"],
           ["", "", "n", "r", "s", "l", "d", "ción", "dad", "miento", "ero", "ado"]),
}

NEGATION = {
    "en": ["not", "never", "no"], "de": ["nicht", "kein*", "nie"], "fr": ["pas", "jamais", "aucun*"],
    "it": ["non", "mai", "nessun*"], "es": ["no", "nunca", "ningún"],
}
NEGATION_JA = ["は不要", "ではありません", "しないで"]
HIGH_RISK_WORDS = {
    "en": ["bad review", "chargeback", "lawyer", "trading standards", "report you"],
    "de": ["schlechte bewertung", "anwalt", "verbraucherzentrale", "anzeige", "rückbuchung"],
    "fr": ["avis négatif", "avocat", "plainte", "litige bancaire", "signaler"],
    "it": ["recensione negativa", "avvocato", "denuncia", "chargeback", "segnalare"],
    "es": ["valoración negativa", "abogado", "denuncia", "consumo", "contracargo"],
    "ja": ["悪い評価", "弁護士", "消費者センター", "返金を拒否", "通報"],
}

JA_WORDS = ["注文", "商品", "発送", "配送", "配達", "到着", "返品", "返金", "交換", "キャンセル",
            "請求書", "領収書", "住所", "変更", "破損", "不良", "故障", "違う", "サイズ", "色",
            "届かない", "届いた", "確認", "連絡", "対応", "追跡", "番号", "予定", "遅れ", "箱",
            "電池", "充電", "画面", "付属", "保証", "評価", "返信", "お願い", "至急", "未着"]
JA_KANJI = list("注文品発送配達到着返金交換請求書領収住所変更破損不良故障違色届確認連絡対応追跡番号"
                "予定遅箱電池充画面付属保証評価信願至急未着購入使用開封梱包店舗本日明日")
JA_OKURI = ["する", "した", "したい", "して", "され", "です", "ません", "でした", "ください",
            "いただけ", "ない", "がない", "について", "の件", ""]
KATAKANA = list("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
                "ガギグゲゴザジズゼゾダデドバビブベボパピプペポ")
KATA_SMALL = ["ー", "ッ", "ャ", "ュ", "ョ", ""]


def pseudo_word(rng, lang, lo=2, hi=4):
    on, nu, co = SYLLABLES[lang]
    n = rng.randint(lo, hi)
    w = "".join(rng.choice(on) + rng.choice(nu) for _ in range(n - 1))
    return w + rng.choice(on) + rng.choice(nu) + rng.choice(co)


def katakana_word(rng):
    n = rng.randint(3, 6)
    s = ""
    for _ in range(n):
        s += rng.choice(KATAKANA)
        if rng.random() < 0.2:
            s += rng.choice(KATA_SMALL)
    return s


def latin_keyword(rng, lang, kind):
    vocab = VOCAB[lang]
    if kind == "phrase":
        return " ".join(rng.sample(vocab, rng.choice([2, 2, 3])))
    if kind == "word":
        return rng.choice(vocab) if rng.random() < 0.3 else pseudo_word(rng, lang, 1, 2) + " " + rng.choice(vocab)
    if kind == "stem":
        if rng.random() < 0.3:
            w = rng.choice([v for v in vocab if len(v) >= 7])
            return w[:rng.randint(5, len(w) - 1)] + "*"
        return pseudo_word(rng, lang, 2, 3) + "*"
    if kind == "pseudo_phrase":
        words = [pseudo_word(rng, lang, 1, 3) for _ in range(rng.choice([2, 2, 3]))]
        if rng.random() < 0.5:
            words[rng.randrange(len(words))] = rng.choice(vocab)
        return " ".join(words)
    return pseudo_word(rng, lang)


def ja_keyword(rng, kind):
    if kind in ("phrase", "word"):
        return rng.choice(JA_WORDS) + rng.choice(["を", "が", "の", "は", ""]) + rng.choice(JA_WORDS) + rng.choice(JA_OKURI)
    if kind in ("stem", "pseudo_phrase"):
        return "".join(rng.choice(JA_KANJI) for _ in range(rng.randint(2, 3))) + rng.choice(JA_OKURI)
    return katakana_word(rng)


KINDS = ["phrase"] * 25 + ["word"] * 10 + ["stem"] * 10 + ["pseudo"] * 40 + ["pseudo_phrase"] * 15


def yq(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build(rng, lang, n):
    """n entries for one language: negation cues, high-risk phrases, intent keywords."""
    seen = set()
    neg = (NEGATION_JA if lang == "ja" else NEGATION[lang])[:max(0, min(3, n // 6))]
    seen.update(neg)
    nrisk = min(len(HIGH_RISK_WORDS[lang]), max(1, n // 50)) if n - len(neg) > 1 else 0
    risk = HIGH_RISK_WORDS[lang][:nrisk]
    seen.update(risk)
    nint = n - len(neg) - len(risk)
    intents = {i: [] for i in INTENTS}
    k = 0
    while k < nint:
        kind = rng.choice(KINDS)
        kw = ja_keyword(rng, kind) if lang == "ja" else latin_keyword(rng, lang, kind)
        key = kw.lower()
        if key in seen or len(kw.rstrip("*")) < 2:
            continue
        seen.add(key)
        w = rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5, -1, -2])
        intents[INTENTS[k % len(INTENTS)]].append((kw, w))
        k += 1
    out = ["# Synthetic %s lexicon for the replyd benchmarks (bench/gen_lexicon.py): %d keywords."
           % (lang, n), "language: %s" % lang, "intents:"]
    for i in INTENTS:
        if intents[i]:
            out.append("  %s:" % i)
            out.extend("    %s: %d" % (yq(kw), w) for kw, w in intents[i])
    if neg:
        key = "after" if lang == "ja" else "before"
        out.append("negation:")
        out.append("  %s: [%s]" % (key, ", ".join(yq(x) for x in neg)))
    if risk:
        out.append("high_risk:")
        out.extend("  %s: %d" % (yq(x), 3) for x in risk)
    return "\n".join(out) + "\n"


def main(argv):
    parsed = C.parse_args(argv, 20261122, __doc__)
    if parsed is None:
        return 2
    n, outdir, seed = parsed
    if n < len(LANGS):
        sys.stderr.write("gen_lexicon.py: N must be at least %d\n" % len(LANGS))
        return 2
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(seed * 1000003 + n)
    files = []
    for j, lang in enumerate(LANGS):
        share = n // len(LANGS) + (1 if j < n % len(LANGS) else 0)
        name = "lexicon-%s.yaml" % lang
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(build(rng, lang, share))
        files.append(name)
    with open(os.path.join(outdir, "replyd.yaml"), "w", encoding="utf-8") as f:
        f.write("# replyd configuration for the lexicon-scaling benchmark: only the %d synthetic\n"
                "# keywords in the files below (bench/gen_lexicon.py).\n" % n)
        f.write("classifier:\n  builtin_lexicons: false\n  lexicons:\n")
        f.writelines("    - %s\n" % x for x in files)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
