# replyd's after-hours acknowledgement, approximately, as a Sieve vacation script: the
# baseline that bench/run_process.sh times with Pigeonhole's sieve-filter on the same
# Maildir as `replyd process --dry-run`.
#
# What it does, per message:
#   - picks the reply's language from the marketplace relay's From domain (replyd detects
#     the language from the text; Sieve has no classifier);
#   - leaves alone messages whose Subject names a claim or chargeback (replyd's "never
#     answer a high-risk message automatically", reduced to a Subject test: Sieve cannot
#     read an intent);
#   - on a team holiday (Dec 24-26, Dec 31, Jan 1) answers with an out-of-office text;
#   - outside business hours (Mon-Thu 09:00-17:30, Fri 09:00-16:00, lunch 12:30-13:30
#     closed) answers with an acknowledgement, at most once a day per sender (:days 1).
# Times are those of the message's Date header on the team's clock. Sieve's date test only
# knows numeric zones, so Europe/Berlin is approximated by +0100 all year (no summer time);
# replyd uses the real time zone.
require ["vacation", "date", "relational", "variables"];

set "subj" "We received your message";
set "ack" "Thank you for your message. Our team is out of the office right now; we will answer on the next business day.";
set "ooo" "Thank you for your message. Our team is on holiday; we will answer as soon as we are back.";

if address :domain :is "from" "marketplace.amazon.de" {
    set "subj" "Wir haben Ihre Nachricht erhalten";
    set "ack" "Vielen Dank für Ihre Nachricht. Unser Team ist gerade nicht im Büro; wir antworten am nächsten Werktag.";
    set "ooo" "Vielen Dank für Ihre Nachricht. Unser Team ist im Urlaub; wir antworten, sobald wir zurück sind.";
} elsif address :domain :is "from" "marketplace.amazon.fr" {
    set "subj" "Nous avons bien reçu votre message";
    set "ack" "Merci pour votre message. Notre équipe est absente pour le moment ; nous vous répondrons le prochain jour ouvré.";
    set "ooo" "Merci pour votre message. Notre équipe est en congé ; nous vous répondrons dès notre retour.";
} elsif address :domain :is "from" "marketplace.amazon.it" {
    set "subj" "Abbiamo ricevuto il tuo messaggio";
    set "ack" "Grazie per il tuo messaggio. Il nostro team è fuori ufficio; ti risponderemo il prossimo giorno lavorativo.";
    set "ooo" "Grazie per il tuo messaggio. Il nostro team è in ferie; ti risponderemo al nostro rientro.";
} elsif address :domain :is "from" ["marketplace.amazon.es", "marketplace.amazon.com.mx"] {
    set "subj" "Hemos recibido tu mensaje";
    set "ack" "Gracias por tu mensaje. Nuestro equipo está fuera de la oficina; te responderemos el próximo día hábil.";
    set "ooo" "Gracias por tu mensaje. Nuestro equipo está de vacaciones; te responderemos a nuestro regreso.";
} elsif address :domain :is "from" "marketplace.amazon.co.jp" {
    set "subj" "お問い合わせを承りました";
    set "ack" "お問い合わせありがとうございます。ただいま営業時間外のため、翌営業日にご連絡いたします。";
    set "ooo" "お問い合わせありがとうございます。ただいま休業中のため、営業再開後にご連絡いたします。";
}

# high-risk, as far as a Subject can tell: a person answers, nothing automatic
if header :contains "subject" ["A-to-z", "chargeback", "Garantieantrag", "réclamation", "reclamo", "reclamación"] {
    stop;
}

if date :zone "+0100" :matches "date" "date" ["*-12-24", "*-12-25", "*-12-26", "*-12-31", "*-01-01"] {
    vacation :days 1 :subject "${subj}" :handle "holiday" "${ooo}";
    stop;
}

if anyof (date :zone "+0100" :is "date" "weekday" ["0", "6"],
          date :zone "+0100" :value "lt" "date" "time" "09:00:00",
          date :zone "+0100" :value "ge" "date" "time" "17:30:00",
          allof (date :zone "+0100" :value "ge" "date" "time" "12:30:00",
                 date :zone "+0100" :value "lt" "date" "time" "13:30:00"),
          allof (date :zone "+0100" :is "date" "weekday" "5",
                 date :zone "+0100" :value "ge" "date" "time" "16:00:00")) {
    vacation :days 1 :subject "${subj}" :handle "after-hours" "${ack}";
}
