#!/usr/bin/env python3
"""gen_messages.py — N synthetic buyer messages as JSON Lines, for the queue's
crash tests (tests/queue/test_crash.sh) and its benchmark (bench/run_queue.sh).

  python3 gen_messages.py N [--seed S] [--prefix P] [--out FILE]

Each line is one message in replyd's JSON Lines schema (docs/input-formats.md):
  id           unique: P-NNNNNN (default prefix "q")
  marketplace  amazon.com, amazon.de, amazon.fr, amazon.it, amazon.es, amazon.co.jp
               (in turn, so every sixth message is of the same marketplace)
  from         a relay alias such as x7f3k2q9@marketplace.amazon.de, distinct for
               every message (so replyd's per-buyer throttles never interfere)
  to           the seller's address on that marketplace
  subject      the marketplace's subject line or the buyer's own
  body         a short text in the marketplace's language: a greeting, the
               question (order status, return, product question, address change,
               cancellation, invoice, delivery problem, damaged item, thanks),
               sometimes a second sentence, a closing
  order_id     NNN-NNNNNNN-NNNNNNN
  received_at  RFC 3339 UTC (replyd process --now overrides it)
  headers      {"Message-ID": "<...@marketplace.amazon.xx>"}

The same N, seed and prefix always give the same file. All texts are made up
for this generator; no real buyer data is involved.
"""
import argparse
import json
import random
import sys

MARKETPLACES = [
    ("amazon.com", "en"),
    ("amazon.de", "de"),
    ("amazon.fr", "fr"),
    ("amazon.it", "it"),
    ("amazon.es", "es"),
    ("amazon.co.jp", "ja"),
]

PRODUCTS = {
    "en": ["desk lamp", "phone case", "yoga mat", "coffee grinder", "wool blanket", "USB-C hub"],
    "de": ["Schreibtischlampe", "Handyhülle", "Yogamatte", "Kaffeemühle", "Wolldecke",
           "Bluetooth-Box"],
    "fr": ["lampe de bureau", "coque de téléphone", "tasse isotherme", "couverture en laine",
           "valise cabine", "enceinte Bluetooth"],
    "it": ["lampada da scrivania", "custodia per telefono", "borraccia termica",
           "coperta di lana", "valigia da cabina", "cassa Bluetooth"],
    "es": ["lámpara de escritorio", "funda de móvil", "esterilla de yoga", "manta de lana",
           "maleta de cabina", "botella térmica"],
    "ja": ["デスクライト", "スマホケース", "ヨガマット", "コーヒーミル", "ウールブランケット",
           "モバイルバッテリー"],
}

GREETING = {
    "en": ["Hello,", "Hi,", "Good evening,", "Dear seller,"],
    "de": ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Guten Abend,"],
    "fr": ["Bonjour,", "Bonsoir,", "Madame, Monsieur,"],
    "it": ["Buongiorno,", "Salve,", "Buonasera,"],
    "es": ["Hola,", "Buenas tardes,", "Buenos días,"],
    "ja": ["お世話になっております。", "こんにちは。", "はじめまして。"],
}

CLOSING = {
    "en": ["Thanks, {n}", "Best regards, {n}", "Kind regards,\n{n}"],
    "de": ["Viele Grüße, {n}", "Mit freundlichen Grüßen\n{n}", "Danke und Gruß, {n}"],
    "fr": ["Merci, {n}", "Cordialement,\n{n}", "Bonne journée, {n}"],
    "it": ["Grazie, {n}", "Cordiali saluti,\n{n}", "Saluti, {n}"],
    "es": ["Gracias, {n}", "Un saludo,\n{n}", "Saludos, {n}"],
    "ja": ["よろしくお願いいたします。\n{n}", "よろしくお願いします。{n}"],
}

NAMES = {
    "en": ["Mary", "James", "Linda", "Robert", "Emma"],
    "de": ["Anna", "Lukas", "Sabine", "Jonas", "Petra"],
    "fr": ["Camille", "Julien", "Claire", "Thomas", "Léa"],
    "it": ["Giulia", "Marco", "Francesca", "Luca", "Chiara"],
    "es": ["Lucía", "Javier", "Carmen", "Pablo", "Marta"],
    "ja": ["田中", "佐藤", "鈴木", "高橋", "伊藤"],
}

# Main question per language and intent; {p} is a product, {d} a number of days.
QUESTIONS = {
    "en": {
        "order_status": ["I ordered the {p} {d} days ago and it has not arrived yet. Where is my "
                         "order?", "Could you tell me when my {p} will be shipped?"],
        "return_request": ["The {p} is too small. How can I return it?",
                           "I would like to return the {p}, please send me a return label."],
        "product_question": ["Does the {p} come with a charger? Is it compatible with Europe?",
                             "What are the dimensions of the {p}?"],
        "address_change": ["I entered the wrong address. Can you change the delivery address "
                           "for my order?"],
        "cancel_order": ["Please cancel my order for the {p}, I ordered it by mistake."],
        "invoice_request": ["Could you send me an invoice with VAT for the {p}?"],
        "damaged_defective": ["The {p} arrived broken, the switch does not work."],
        "thanks": ["Thank you very much, the {p} arrived today and it is perfect!"],
    },
    "de": {
        "order_status": ["Ich habe die {p} vor {d} Tagen bestellt und sie ist immer noch nicht "
                         "da. Wo bleibt meine Bestellung?",
                         "Wann wird meine {p} versendet? Die Sendung ist noch nicht da."],
        "return_request": ["Die {p} passt leider nicht. Wie kann ich sie zurücksenden?",
                           "Ich möchte die {p} zurückgeben, bitte schicken Sie mir ein "
                           "Rücksendeetikett."],
        "product_question": ["Ist bei der {p} ein Netzteil dabei? Welche Maße hat sie genau?",
                             "Gibt es die {p} auch in Schwarz?"],
        "address_change": ["Ich habe mich bei der Lieferadresse vertippt. Können Sie die Adresse "
                           "noch ändern?"],
        "cancel_order": ["Bitte stornieren Sie meine Bestellung der {p}, ich habe mich "
                         "verklickt."],
        "invoice_request": ["Können Sie mir bitte eine Rechnung mit ausgewiesener MwSt. für die "
                            "{p} schicken?"],
        "damaged_defective": ["Die {p} kam beschädigt an, das Gehäuse ist gebrochen."],
        "thanks": ["Vielen Dank, die {p} ist heute angekommen und alles ist super!"],
    },
    "fr": {
        "order_status": ["J'ai commandé la {p} il y a {d} jours et je ne l'ai toujours pas "
                         "reçue. Où en est ma commande ?",
                         "Pouvez-vous me dire quand ma {p} sera expédiée ?"],
        "return_request": ["La {p} ne me convient pas. Comment puis-je la retourner ?",
                           "Je souhaite retourner la {p}, merci de m'envoyer une étiquette de "
                           "retour."],
        "product_question": ["La {p} est-elle livrée avec un chargeur ? Quelles sont ses "
                             "dimensions ?"],
        "address_change": ["Je me suis trompé d'adresse de livraison. Pouvez-vous modifier "
                           "l'adresse de ma commande ?"],
        "cancel_order": ["Merci d'annuler ma commande de la {p}, je l'ai commandée par erreur."],
        "invoice_request": ["Pourriez-vous m'envoyer une facture avec TVA pour la {p} ?"],
        "damaged_defective": ["La {p} est arrivée cassée, elle ne fonctionne pas."],
        "thanks": ["Merci beaucoup, la {p} est bien arrivée, elle est parfaite !"],
    },
    "it": {
        "order_status": ["Ho ordinato la {p} {d} giorni fa e non è ancora arrivata. Dov'è il mio "
                         "ordine?", "Potete dirmi quando verrà spedita la mia {p}?"],
        "return_request": ["La {p} non va bene. Come posso fare il reso?",
                           "Vorrei restituire la {p}, mi mandate l'etichetta per il reso?"],
        "product_question": ["La {p} ha il caricatore incluso? Quali sono le dimensioni?"],
        "address_change": ["Ho sbagliato l'indirizzo di consegna. Potete cambiare l'indirizzo "
                           "del mio ordine?"],
        "cancel_order": ["Vorrei annullare l'ordine della {p}, l'ho ordinata per sbaglio."],
        "invoice_request": ["Potreste inviarmi la fattura con IVA per la {p}?"],
        "damaged_defective": ["La {p} è arrivata rotta e non funziona."],
        "thanks": ["Grazie mille, la {p} è arrivata oggi ed è perfetta!"],
    },
    "es": {
        "order_status": ["Pedí la {p} hace {d} días y todavía no ha llegado. ¿Dónde está mi "
                         "pedido?", "¿Me podéis decir cuándo se enviará mi {p}?"],
        "return_request": ["La {p} no me sirve. ¿Cómo puedo devolverla?",
                           "Quiero devolver la {p}, ¿me enviáis una etiqueta de devolución?"],
        "product_question": ["¿La {p} incluye cargador? ¿Qué medidas tiene?"],
        "address_change": ["Me equivoqué con la dirección de entrega. ¿Podéis cambiar la "
                           "dirección de mi pedido?"],
        "cancel_order": ["Por favor, cancelad mi pedido de la {p}, lo hice por error."],
        "invoice_request": ["¿Podríais enviarme una factura con IVA de la {p}?"],
        "damaged_defective": ["La {p} llegó rota y no funciona."],
        "thanks": ["¡Muchas gracias, la {p} llegó hoy y es perfecta!"],
    },
    "ja": {
        "order_status": ["{d}日前に{p}を注文しましたが、まだ届いていません。配送状況を教えてください。",
                         "{p}はいつ発送されますか？"],
        "return_request": ["{p}のサイズが合わなかったので返品したいです。返品の手続きを教えてください。"],
        "product_question": ["{p}に充電器は付属していますか？サイズも教えてください。"],
        "address_change": ["お届け先の住所を間違えてしまいました。住所を変更できますか？"],
        "cancel_order": ["{p}の注文をキャンセルしたいです。間違えて注文しました。"],
        "invoice_request": ["{p}の領収書を発行していただけますか？"],
        "damaged_defective": ["{p}が壊れた状態で届きました。電源が入りません。"],
        "thanks": ["{p}が本日届きました。ありがとうございました！"],
    },
}

# Share of each intent (thanks gets no reply; damaged items go to a human).
INTENT_WEIGHTS = [("order_status", 30), ("return_request", 15), ("product_question", 15),
                  ("address_change", 8), ("cancel_order", 8), ("invoice_request", 8),
                  ("damaged_defective", 8), ("thanks", 8)]

EXTRA = {
    "en": ["The order number is {o}.", "I need it before the weekend.", ""],
    "de": ["Die Bestellnummer ist {o}.", "Ich brauche sie bis zum Wochenende.", ""],
    "fr": ["Le numéro de commande est {o}.", "J'en ai besoin avant le week-end.", ""],
    "it": ["Il numero d'ordine è {o}.", "Mi serve entro il fine settimana.", ""],
    "es": ["El número de pedido es {o}.", "La necesito antes del fin de semana.", ""],
    "ja": ["注文番号は{o}です。", "週末までに必要です。", ""],
}

RELAY_SUBJECT = {
    "en": "Inquiry from Amazon customer {n} (Order: {o})",
    "de": "Anfrage von Amazon-Kunde {n} (Bestellung: {o})",
    "fr": "Demande du client Amazon {n} (Commande : {o})",
    "it": "Richiesta dal cliente Amazon {n} (Ordine: {o})",
    "es": "Consulta del cliente de Amazon {n} (Pedido: {o})",
    "ja": "Amazonのお客様{n}様からの問い合わせ（注文番号：{o}）",
}

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def pick_intent(rng):
    total = sum(w for _, w in INTENT_WEIGHTS)
    x = rng.uniform(0, total)
    for name, w in INTENT_WEIGHTS:
        x -= w
        if x <= 0:
            return name
    return INTENT_WEIGHTS[-1][0]


def message(rng, i, prefix, base_ts):
    mp, lang = MARKETPLACES[i % len(MARKETPLACES)]
    intent = pick_intent(rng)
    product = rng.choice(PRODUCTS[lang])
    name = rng.choice(NAMES[lang])
    order = "%03d-%07d-%07d" % (rng.choice([111, 302, 402, 405, 406, 503]),
                                rng.randrange(10 ** 7), rng.randrange(10 ** 7))
    q = rng.choice(QUESTIONS[lang][intent]).format(p=product, d=rng.randint(3, 14))
    extra = rng.choice(EXTRA[lang]).format(o=order)
    sep = "" if lang == "ja" else " "
    text = q + (sep + extra if extra else "")
    body = "%s\n\n%s\n\n%s" % (rng.choice(GREETING[lang]), text,
                               rng.choice(CLOSING[lang]).format(n=name))
    # distinct per message: the index is part of the local part
    local = "%s%05d" % ("".join(rng.choice(ALNUM) for _ in range(6)), i)
    relay = "marketplace." + mp
    if rng.random() < 0.7:
        subject = RELAY_SUBJECT[lang].format(n=name, o=order)
    else:
        subject = q.split("?")[0].split("？")[0][:60]
    ts = base_ts + i * 37
    return {
        "id": "%s-%06d" % (prefix, i),
        "marketplace": mp,
        "from": "%s@%s" % (local, relay),
        "to": "shop@%s" % mp.replace("amazon.", "seller.example."),
        "subject": subject,
        "body": body,
        "order_id": order,
        "received_at": "%04d-%02d-%02dT%02d:%02d:%02dZ" % utc(ts),
        "headers": {"Message-ID": "<%s.%s-%06d@%s>" % (
            "".join(rng.choice(ALNUM) for _ in range(10)), prefix, i, relay)},
    }


def utc(ts):
    days, rem = divmod(ts, 86400)
    # civil_from_days (Howard Hinnant)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (m <= 2), m, d, rem // 3600, rem // 60 % 60, rem % 60)


def main():
    ap = argparse.ArgumentParser(description="synthetic buyer messages as JSON Lines")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--prefix", default="q")
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    if args.n < 0:
        ap.error("N must be >= 0")
    rng = random.Random(args.seed)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    base_ts = 1795824000  # 2026-11-28T00:00:00Z
    for i in range(args.n):
        out.write(json.dumps(message(rng, i, args.prefix, base_ts), ensure_ascii=False) + "\n")
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
