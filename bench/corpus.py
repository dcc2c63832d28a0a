# Shared building blocks for the replyd benchmark generators (gen_jsonl.py, gen_eml.py).
#
# Everything here was written for the benchmarks: sentence templates per language and
# intent, greetings, closings, first names, products, marketplace relay boilerplate. The
# generators combine them at random with a fixed seed, so every run produces the same
# stream, and no two messages in a row are the same text.

import random
import sys

LANGS = ["en", "de", "fr", "it", "es", "ja"]

# Share of messages per language (roughly what a pan-European + JP seller sees).
LANG_WEIGHTS = {"en": 30, "de": 25, "fr": 12, "it": 10, "es": 10, "ja": 13}

MARKETPLACES = {
    "en": ["amazon.com", "amazon.co.uk", "amazon.co.uk", "amazon.ca", "amazon.com.au"],
    "de": ["amazon.de"],
    "fr": ["amazon.fr"],
    "it": ["amazon.it"],
    "es": ["amazon.es"],
    "ja": ["amazon.co.jp"],
}

# First three digits of order ids, by marketplace.
ORDER_PREFIX = {
    "amazon.com": ["111", "112", "113", "114"],
    "amazon.co.uk": ["202", "203", "204", "205", "026"],
    "amazon.ca": ["701", "702"],
    "amazon.com.au": ["249", "250"],
    "amazon.de": ["302", "303", "304", "028"],
    "amazon.fr": ["402", "403", "404", "171"],
    "amazon.it": ["402", "403", "405", "171"],
    "amazon.es": ["402", "404", "406", "171"],
    "amazon.co.jp": ["249", "250", "503", "503"],
}

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
           "settembre", "ottobre", "novembre", "dicembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"],
}

SHOPS = ["Example Shop", "Nordlicht Home", "Casa Verde Store", "Kumo Goods", "Brightline Tech",
         "Atelier Lumen", "Bergwerk Outdoor", "Mare Blu Living"]
SHOPS_JA = ["サンプルショップ", "雲ストア", "ひかり生活館", "ノースライト"]

# Products: for fr/it/es/de all feminine nouns so that the article in the templates agrees.
PRODUCTS = {
    "en": ["wool throw", "Bluetooth speaker", "phone case", "monitor arm", "hiking backpack",
           "LED desk lamp", "coffee grinder", "pair of running shoes", "kids' raincoat",
           "cast iron pan", "USB-C hub", "yoga mat", "electric toothbrush", "duvet cover",
           "insulated water bottle", "office chair", "cabin suitcase", "wireless keyboard"],
    "de": ["Wolldecke", "Handyhülle", "Monitorhalterung", "LED-Schreibtischlampe", "Kaffeemühle",
           "Regenjacke", "Gusseisenpfanne", "Yogamatte", "Powerbank", "Thermoskanne",
           "Bluetooth-Box", "Bettwäsche", "elektrische Zahnbürste", "Reisetasche",
           "Funktastatur", "Daunenjacke"],
    "fr": ["couverture en laine", "coque de téléphone", "lampe de bureau", "poêle en fonte",
           "cafetière", "veste imperméable", "montre connectée", "batterie externe",
           "housse de couette", "gourde isotherme", "chaise de bureau", "valise cabine",
           "brosse à dents électrique", "enceinte Bluetooth"],
    "it": ["coperta di lana", "cover del telefono", "lampada da scrivania", "padella in ghisa",
           "moka", "giacca impermeabile", "borraccia termica", "sedia da ufficio",
           "valigia da cabina", "tastiera wireless", "felpa con cappuccio",
           "spazzola elettrica", "cassa Bluetooth", "macchina per la pasta"],
    "es": ["manta de lana", "funda del móvil", "lámpara de escritorio", "sartén de hierro",
           "cafetera", "chaqueta impermeable", "botella térmica", "silla de oficina",
           "maleta de cabina", "batería externa", "mochila de senderismo",
           "alfombrilla de yoga", "cepillo eléctrico", "funda nórdica"],
    "ja": ["ウール混ひざ掛け", "Bluetoothスピーカー", "スマホケース", "モニターアーム",
           "登山用リュック", "LEDデスクライト", "コーヒーミル", "ランニングシューズ",
           "子供用レインコート", "鉄フライパン", "USB-Cハブ", "ヨガマット", "電動歯ブラシ",
           "掛け布団カバー", "ステンレス水筒", "キャリーケース"],
}

COLOURS = {
    "en": ["black", "navy", "red", "grey", "green", "beige"],
    "de": ["Schwarz", "Dunkelblau", "Rot", "Grau", "Grün", "Beige"],
    "fr": ["noir", "bleu marine", "rouge", "gris", "vert", "beige"],
    "it": ["nero", "blu", "rosso", "grigio", "verde", "beige"],
    "es": ["negro", "azul marino", "rojo", "gris", "verde", "beige"],
    "ja": ["黒", "紺", "赤", "グレー", "緑", "ベージュ"],
}
SIZES = ["S", "M", "L", "XL", "38", "40", "42", "44"]

NAMES = {
    "en": ["Olivia", "James", "Emma", "Noah", "Sophie", "Daniel", "Grace", "Liam", "Chloe",
           "Michael", "Priya", "Tom", "Hannah", "Ethan", "Megan", "Ryan"],
    "de": ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sophie", "Tobias",
           "Julia", "Stefan", "Katrin", "Niklas", "Sabine", "Jan", "Mia"],
    "fr": ["Camille", "Julien", "Léa", "Thomas", "Manon", "Nicolas", "Chloé", "Antoine",
           "Inès", "Hugo", "Élodie", "Mathieu", "Sarah", "Quentin"],
    "it": ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Sara", "Alessandro",
           "Elena", "Davide", "Federica", "Simone", "Valentina", "Andrea"],
    "es": ["Lucía", "Javier", "Carmen", "Pablo", "Marta", "Alejandro", "Laura", "Diego",
           "Paula", "Sergio", "Elena", "Álvaro", "Nuria", "Iván"],
    "ja": ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
           "吉田", "山田", "松本", "井上"],
}
INITIALS = "ABCDEFGHJKLMNPRSTVW"

GREETINGS = {
    "en": ["Hi,", "Hello,", "Hello there,", "Dear seller,", "Good morning,", "Hi {shop},",
           "Dear {shop} team,", "Hi there,"],
    "de": ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo zusammen,",
           "Moin,", "Hallo {shop}-Team,", "Liebes {shop}-Team,"],
    "fr": ["Bonjour,", "Bonjour Madame, Monsieur,", "Bonsoir,", "Madame, Monsieur,",
           "Bonjour l'équipe {shop},"],
    "it": ["Buongiorno,", "Salve,", "Gentile venditore,", "Buonasera,", "Ciao,",
           "Gentile {shop},"],
    "es": ["Hola,", "Buenos días,", "Buenas tardes,", "Estimado vendedor,", "Hola {shop},"],
    "ja": ["お世話になっております。", "初めてご連絡いたします。", "こんにちは。", "{shop}様",
           "{shop}ご担当者様"],
}

CLOSINGS = {
    "en": ["Thanks,", "Kind regards,", "Best wishes,", "Cheers,", "Many thanks,", "Regards,",
           "Thanks in advance,", "Best,"],
    "de": ["Viele Grüße", "Beste Grüße", "Mit freundlichen Grüßen", "Danke und Gruß", "LG",
           "Freundliche Grüße", "Vielen Dank im Voraus"],
    "fr": ["Cordialement,", "Bien cordialement,", "Merci d'avance,", "Bonne journée,",
           "Bien à vous,"],
    "it": ["Cordiali saluti,", "Grazie,", "Saluti,", "Grazie in anticipo,", "Distinti saluti,",
           "Buona giornata,"],
    "es": ["Saludos,", "Un saludo,", "Gracias,", "Atentamente,", "Muchas gracias,",
           "Un cordial saludo,"],
    "ja": ["よろしくお願いいたします。", "よろしくお願いします。", "ご確認のほどお願いいたします。",
           "お手数ですがよろしくお願いいたします。"],
}

MOBILE_SIG = {
    "en": ["Sent from my iPhone", "Sent from my Galaxy", "Sent from Outlook for Android"],
    "de": ["Von meinem iPhone gesendet", "Von meinem Samsung Galaxy gesendet"],
    "fr": ["Envoyé de mon iPhone", "Envoyé depuis mon smartphone"],
    "it": ["Inviato da iPhone", "Inviato dal mio smartphone"],
    "es": ["Enviado desde mi iPhone", "Enviado desde mi smartphone"],
    "ja": ["iPhoneから送信", "Androidから送信"],
}

# Sentences by language and intent. Slots: {product} {date} {days} {order} {colour} {size}.
CORE = {
    "en": {
        "order_status": [
            "I ordered the {product} on {date} and the tracking still hasn't updated. Could you tell me when it will be dispatched?",
            "Can you give me an update on my order? It was supposed to arrive {days} days ago and I can't see any tracking information.",
            "Just checking on the status of my order for the {product}. Has it been shipped yet?",
            "The estimated delivery date has passed and the parcel still shows as in transit. Any news?",
        ],
        "not_received": [
            "The tracking says my parcel was delivered on {date}, but I never received it. I've checked with the neighbours and around the house.",
            "My order still has not arrived and it's been over {days} days. The {product} was a gift and I really need it.",
            "It says delivered but there was nothing in my mailbox and nobody in the building took it in.",
        ],
        "cancel_order": [
            "I ordered the {product} twice by mistake. Please cancel one of the orders before it ships.",
            "Could you please cancel my order? I found the {product} cheaper locally and don't need it any more.",
            "I'd like to cancel this order if it hasn't been dispatched yet. Sorry for the trouble.",
        ],
        "return_request": [
            "The {product} is a bit too small for me. How do I return it? Could you send me a return label?",
            "I'd like to return the {product}, it's unused and still in the original packaging.",
            "Unfortunately the colour is quite different from the photos. I want to send it back for a refund.",
        ],
        "refund_status": [
            "I sent the {product} back on {date} and you confirmed receipt, but I still haven't got my refund.",
            "When will the refund be processed? It's been {days} days since the return was delivered to you.",
            "Amazon says the refund was issued but nothing has shown up on my card yet. Could you check?",
        ],
        "damaged_defective": [
            "The {product} arrived broken, the box was crushed and one corner is cracked.",
            "After only {days} days the {product} stopped working. It won't turn on at all, even after charging it overnight.",
            "The item is faulty: it makes a loud rattling noise and the button is stuck.",
        ],
        "wrong_item": [
            "I received the wrong item. I ordered the {product} in {colour} but got a completely different model.",
            "The package contained the wrong size, I ordered a {size} and you sent a much bigger one.",
            "This is not what I ordered. The label says {product} but the contents are something else.",
        ],
        "product_question": [
            "Before I order: is the {product} compatible with the 2024 model? And what are the exact dimensions?",
            "Does the {product} come with a charger, or do I need to buy one separately?",
            "Can you tell me whether the {product} is suitable for outdoor use in winter?",
        ],
        "invoice_request": [
            "Could you please send me a VAT invoice for this order? I need it for my company's accounts.",
            "I need an invoice with my business name and address on it, the receipt in my account isn't enough.",
            "Please issue an invoice for order {order}, my accountant is asking for it.",
        ],
        "address_change": [
            "I just noticed I used my old address. Can you change the delivery address before it ships?",
            "Please update the shipping address to my work address, I won't be home next week.",
            "Is it still possible to change the address on this order? The flat number is missing.",
        ],
        "complaint_feedback": [
            "This is the worst service I have ever had. Nobody answers my messages and I'm really disappointed.",
            "I've written to you three times now without a reply. If this isn't sorted I'll leave a bad review.",
            "Honestly, this is unacceptable. I will open an A-to-z claim if I don't hear back today.",
        ],
        "thanks": [
            "Just wanted to say thanks, the {product} arrived today and it's perfect.",
            "Thank you for the quick replacement, everything works fine now.",
            "Many thanks for your help, much appreciated!",
        ],
    },
    "de": {
        "order_status": [
            "Ich habe die {product} am {date} bestellt und die Sendungsverfolgung wurde seitdem nicht aktualisiert. Wann wird das Paket versendet?",
            "Können Sie mir sagen, wo meine Bestellung bleibt? Sie hätte schon vor {days} Tagen ankommen sollen.",
            "Gibt es Neuigkeiten zu meiner Bestellung? Ich sehe noch keine Trackingnummer.",
            "Der voraussichtliche Liefertermin ist vorbei und das Paket hängt seit Tagen im Verteilzentrum.",
        ],
        "not_received": [
            "Laut Sendungsverfolgung wurde das Paket am {date} zugestellt, aber ich habe nichts erhalten. Bei den Nachbarn ist es auch nicht.",
            "Meine Bestellung ist nach {days} Tagen immer noch nicht angekommen. Die {product} sollte ein Geschenk sein.",
            "Das Paket wurde angeblich in den Briefkasten gelegt, dort war aber nichts.",
        ],
        "cancel_order": [
            "Ich habe versehentlich zweimal bestellt. Bitte stornieren Sie eine der beiden Bestellungen.",
            "Können Sie meine Bestellung bitte stornieren? Ich brauche die {product} leider nicht mehr.",
            "Falls noch nicht versendet, möchte ich die Bestellung gerne stornieren.",
        ],
        "return_request": [
            "Die {product} ist leider zu klein. Wie kann ich sie zurückschicken? Können Sie mir ein Rücksendeetikett schicken?",
            "Ich möchte die {product} gerne zurückgeben, sie ist unbenutzt und originalverpackt.",
            "Die Farbe sieht ganz anders aus als auf den Fotos, ich würde den Artikel gerne zurücksenden.",
        ],
        "refund_status": [
            "Ich habe die {product} am {date} zurückgeschickt und sie ist bei Ihnen angekommen, aber das Geld ist noch nicht auf meinem Konto.",
            "Wann bekomme ich meine Rückerstattung? Die Rücksendung ist seit {days} Tagen bei Ihnen.",
            "Wo bleibt mein Geld? Die Erstattung wurde mir schon vor zwei Wochen bestätigt.",
        ],
        "damaged_defective": [
            "Die {product} kam beschädigt an, der Karton war eingedrückt und eine Ecke ist gebrochen.",
            "Nach nur {days} Tagen funktioniert die {product} nicht mehr. Sie lässt sich gar nicht mehr einschalten.",
            "Der Artikel ist leider defekt, der Schalter klemmt und es klappert laut.",
        ],
        "wrong_item": [
            "Ich habe den falschen Artikel bekommen. Bestellt war die {product} in {colour}, geliefert wurde ein ganz anderes Modell.",
            "Im Paket war die falsche Größe, ich hatte {size} bestellt.",
            "Das ist nicht das, was ich bestellt habe. Auf dem Etikett steht {product}, drin ist etwas anderes.",
        ],
        "product_question": [
            "Eine Frage vor dem Kauf: Passt die {product} auch zum Modell von 2024? Und wie sind die genauen Maße?",
            "Ist bei der {product} ein Ladegerät dabei oder muss ich das separat kaufen?",
            "Ist die {product} auch für draußen im Winter geeignet?",
        ],
        "invoice_request": [
            "Könnten Sie mir bitte eine Rechnung mit ausgewiesener Mehrwertsteuer schicken? Ich brauche sie für meine Firma.",
            "Ich benötige eine Rechnung auf meinen Firmennamen, die Quittung im Kundenkonto reicht leider nicht.",
            "Bitte senden Sie mir eine Rechnung für die Bestellung {order}, mein Steuerberater fragt danach.",
        ],
        "address_change": [
            "Ich habe gerade gemerkt, dass ich meine alte Adresse angegeben habe. Können Sie die Lieferadresse noch ändern?",
            "Bitte ändern Sie die Lieferadresse auf meine Arbeitsadresse, ich bin nächste Woche nicht zu Hause.",
            "Ist es noch möglich, die Adresse zu ändern? Die Hausnummer fehlt.",
        ],
        "complaint_feedback": [
            "Das ist der schlechteste Service, den ich je erlebt habe. Niemand antwortet auf meine Nachrichten.",
            "Ich habe Ihnen jetzt dreimal geschrieben und keine Antwort bekommen. Sonst gibt es eine schlechte Bewertung.",
            "Ehrlich gesagt ist das eine Frechheit. Wenn ich heute nichts höre, stelle ich einen A-bis-z-Garantieantrag.",
        ],
        "thanks": [
            "Vielen Dank, die {product} ist heute angekommen und ist perfekt.",
            "Danke für den schnellen Ersatz, jetzt funktioniert alles.",
            "Herzlichen Dank für Ihre Hilfe!",
        ],
    },
    "fr": {
        "order_status": [
            "J'ai commandé la {product} le {date} et le suivi n'a pas bougé depuis. Pouvez-vous me dire quand le colis sera expédié ?",
            "Où en est ma commande ? Elle devait arriver il y a {days} jours et je n'ai aucun numéro de suivi.",
            "Avez-vous des nouvelles de ma commande ? La date de livraison prévue est dépassée.",
        ],
        "not_received": [
            "Le suivi indique que le colis a été livré le {date}, mais je n'ai rien reçu. J'ai demandé aux voisins, rien non plus.",
            "Ma commande n'est toujours pas arrivée après {days} jours. La {product} était un cadeau.",
            "Le colis n'était pas dans ma boîte aux lettres alors qu'il est marqué comme livré. Pouvez-vous ouvrir une enquête ?",
        ],
        "cancel_order": [
            "J'ai passé la commande deux fois par erreur. Merci d'annuler l'une des deux.",
            "Pourriez-vous annuler ma commande ? Je n'ai plus besoin de la {product}.",
            "Si la commande n'est pas encore partie, je souhaite l'annuler. Désolé pour le dérangement.",
        ],
        "return_request": [
            "La {product} est trop petite. Comment puis-je la retourner ? Pouvez-vous m'envoyer une étiquette de retour ?",
            "Je voudrais retourner la {product}, elle n'a jamais servi et est encore dans son emballage d'origine.",
            "La couleur ne correspond pas du tout aux photos, je souhaite renvoyer l'article et être remboursé.",
        ],
        "refund_status": [
            "J'ai renvoyé la {product} le {date} et vous l'avez bien reçue, mais je n'ai toujours pas été remboursé.",
            "Quand le remboursement sera-t-il effectué ? Le retour vous a été livré il y a {days} jours.",
            "Amazon indique que le remboursement a été émis, mais rien n'apparaît sur mon compte.",
        ],
        "damaged_defective": [
            "La {product} est arrivée cassée, le carton était écrasé et un coin est fendu.",
            "Au bout de {days} jours seulement, la {product} ne fonctionne plus. Elle ne s'allume plus du tout.",
            "L'article est défectueux : le bouton est bloqué et il fait un bruit bizarre.",
        ],
        "wrong_item": [
            "J'ai reçu le mauvais article. J'avais commandé la {product} en {colour} et j'ai reçu un tout autre modèle.",
            "Le colis contenait la mauvaise taille, j'avais commandé du {size}.",
            "Ce n'est pas ce que j'ai commandé. L'étiquette indique {product} mais le contenu est différent.",
        ],
        "product_question": [
            "Une question avant d'acheter : la {product} est-elle compatible avec le modèle 2024 ? Quelles sont les dimensions exactes ?",
            "Est-ce que la {product} est livrée avec un chargeur ou faut-il l'acheter séparément ?",
            "La {product} convient-elle pour un usage en extérieur en hiver ?",
        ],
        "invoice_request": [
            "Pourriez-vous m'envoyer une facture avec TVA pour cette commande ? J'en ai besoin pour mon entreprise.",
            "J'ai besoin d'une facture au nom de ma société, le reçu dans mon compte ne suffit pas.",
            "Merci de m'envoyer la facture de la commande {order}, mon comptable me la demande.",
        ],
        "address_change": [
            "Je viens de voir que j'ai indiqué mon ancienne adresse. Pouvez-vous modifier l'adresse de livraison ?",
            "Merci de changer l'adresse de livraison pour mon adresse professionnelle, je serai absent la semaine prochaine.",
            "Est-il encore possible de changer l'adresse ? Il manque le numéro d'appartement.",
        ],
        "complaint_feedback": [
            "C'est le pire service que j'ai jamais eu. Personne ne répond à mes messages, je suis très déçu.",
            "Je vous ai écrit trois fois sans réponse. Si rien n'est fait, je laisserai un avis négatif.",
            "Franchement, c'est inadmissible. Sans réponse aujourd'hui, j'ouvre une réclamation A à Z.",
        ],
        "thanks": [
            "Merci beaucoup, la {product} est arrivée aujourd'hui et elle est parfaite.",
            "Merci pour le remplacement rapide, tout fonctionne maintenant.",
            "Merci infiniment pour votre aide !",
        ],
    },
    "it": {
        "order_status": [
            "Ho ordinato la {product} il {date} e il tracciamento non si è più aggiornato. Quando verrà spedito il pacco?",
            "Potete dirmi a che punto è il mio ordine? Doveva arrivare {days} giorni fa e non ho nessun numero di tracking.",
            "Ci sono novità sul mio ordine? La data di consegna prevista è già passata.",
        ],
        "not_received": [
            "Il tracciamento dice che il pacco è stato consegnato il {date}, ma non ho ricevuto niente. Ho chiesto anche ai vicini.",
            "Il mio ordine non è ancora arrivato dopo {days} giorni. La {product} era un regalo.",
            "Il pacco risulta consegnato ma nella cassetta delle lettere non c'era nulla.",
        ],
        "cancel_order": [
            "Ho ordinato due volte per errore. Potete annullare uno dei due ordini?",
            "Vorrei annullare il mio ordine, non ho più bisogno della {product}.",
            "Se l'ordine non è ancora partito, vorrei annullarlo. Scusate il disturbo.",
        ],
        "return_request": [
            "La {product} è troppo piccola. Come posso restituirla? Potete mandarmi un'etichetta di reso?",
            "Vorrei fare il reso della {product}, è nuova e ancora nella confezione originale.",
            "Il colore è molto diverso dalle foto, vorrei rimandare indietro l'articolo.",
        ],
        "refund_status": [
            "Ho rispedito la {product} il {date} e l'avete ricevuta, ma non ho ancora avuto il rimborso.",
            "Quando riceverò il rimborso? Il reso vi è stato consegnato {days} giorni fa.",
            "Amazon dice che il rimborso è stato emesso, ma sulla carta non vedo ancora niente.",
        ],
        "damaged_defective": [
            "La {product} è arrivata rotta, la scatola era schiacciata e un angolo è crepato.",
            "Dopo solo {days} giorni la {product} non funziona più. Non si accende proprio.",
            "L'articolo è difettoso: il pulsante è bloccato e fa un rumore strano.",
        ],
        "wrong_item": [
            "Ho ricevuto l'articolo sbagliato. Avevo ordinato la {product} di colore {colour} e mi è arrivato un altro modello.",
            "Nel pacco c'era la taglia sbagliata, avevo ordinato una {size}.",
            "Non è quello che ho ordinato. Sull'etichetta c'è scritto {product} ma dentro c'è altro.",
        ],
        "product_question": [
            "Una domanda prima dell'acquisto: la {product} è compatibile con il modello 2024? Quali sono le misure esatte?",
            "La {product} ha il caricatore incluso o devo comprarlo a parte?",
            "La {product} è adatta all'uso all'aperto d'inverno?",
        ],
        "invoice_request": [
            "Potreste inviarmi la fattura con IVA per questo ordine? Mi serve per la mia azienda.",
            "Ho bisogno di una fattura intestata alla mia società, la ricevuta nel mio account non basta.",
            "Per favore mandatemi la fattura dell'ordine {order}, me la chiede il commercialista.",
        ],
        "address_change": [
            "Mi sono accorto di aver inserito il vecchio indirizzo. Potete cambiare l'indirizzo di consegna?",
            "Per favore modificate l'indirizzo di spedizione con quello dell'ufficio, la prossima settimana non sarò a casa.",
            "È ancora possibile cambiare l'indirizzo? Manca il numero civico.",
        ],
        "complaint_feedback": [
            "È il peggior servizio che abbia mai avuto. Nessuno risponde ai miei messaggi, sono molto deluso.",
            "Vi ho scritto tre volte senza risposta. Se non risolvete lascerò una recensione negativa.",
            "Sinceramente è inaccettabile. Se oggi non ricevo risposta apro una richiesta di Garanzia dalla A alla Z.",
        ],
        "thanks": [
            "Grazie mille, la {product} è arrivata oggi ed è perfetta.",
            "Grazie per la sostituzione veloce, adesso funziona tutto.",
            "Vi ringrazio tanto per l'aiuto!",
        ],
    },
    "es": {
        "order_status": [
            "Pedí la {product} el {date} y el seguimiento no se ha actualizado desde entonces. ¿Cuándo se enviará el paquete?",
            "¿Me pueden decir cómo va mi pedido? Tenía que llegar hace {days} días y no tengo número de seguimiento.",
            "¿Hay alguna novedad sobre mi pedido? Ya ha pasado la fecha de entrega prevista.",
        ],
        "not_received": [
            "El seguimiento dice que el paquete se entregó el {date}, pero no he recibido nada. He preguntado a los vecinos y tampoco.",
            "Mi pedido todavía no ha llegado después de {days} días. La {product} era un regalo.",
            "El paquete aparece como entregado pero en el buzón no había nada.",
        ],
        "cancel_order": [
            "He hecho el pedido dos veces por error. ¿Pueden cancelar uno de los dos?",
            "Quisiera cancelar mi pedido, ya no necesito la {product}.",
            "Si el pedido aún no ha salido, me gustaría anularlo. Perdón por las molestias.",
        ],
        "return_request": [
            "La {product} me queda pequeña. ¿Cómo puedo devolverla? ¿Me pueden enviar una etiqueta de devolución?",
            "Quiero devolver la {product}, está sin usar y en su embalaje original.",
            "El color es muy distinto al de las fotos, me gustaría devolver el artículo.",
        ],
        "refund_status": [
            "Devolví la {product} el {date} y ya la han recibido, pero todavía no me han hecho el reembolso.",
            "¿Cuándo recibiré el reembolso? La devolución les llegó hace {days} días.",
            "Amazon dice que el reembolso está emitido, pero en mi tarjeta no aparece nada.",
        ],
        "damaged_defective": [
            "La {product} llegó rota, la caja estaba aplastada y una esquina está agrietada.",
            "Después de solo {days} días la {product} ha dejado de funcionar. No se enciende.",
            "El artículo está defectuoso: el botón está atascado y hace un ruido raro.",
        ],
        "wrong_item": [
            "He recibido un artículo equivocado. Pedí la {product} en color {colour} y me llegó otro modelo.",
            "En el paquete venía la talla equivocada, yo pedí una {size}.",
            "Esto no es lo que pedí. La etiqueta pone {product} pero dentro hay otra cosa.",
        ],
        "product_question": [
            "Una pregunta antes de comprar: ¿la {product} es compatible con el modelo de 2024? ¿Cuáles son las medidas exactas?",
            "¿La {product} viene con cargador o hay que comprarlo aparte?",
            "¿La {product} sirve para usarla al aire libre en invierno?",
        ],
        "invoice_request": [
            "¿Podrían enviarme una factura con IVA de este pedido? La necesito para mi empresa.",
            "Necesito una factura a nombre de mi empresa, el recibo de mi cuenta no es suficiente.",
            "Por favor, envíenme la factura del pedido {order}, me la pide mi gestor.",
        ],
        "address_change": [
            "Me acabo de dar cuenta de que puse mi dirección antigua. ¿Pueden cambiar la dirección de entrega?",
            "Por favor, cambien la dirección de envío a la de mi trabajo, la semana que viene no estaré en casa.",
            "¿Todavía se puede cambiar la dirección? Falta el número del piso.",
        ],
        "complaint_feedback": [
            "Es el peor servicio que he tenido nunca. Nadie contesta a mis mensajes, estoy muy decepcionado.",
            "Les he escrito tres veces sin respuesta. Si no lo solucionan dejaré una valoración negativa.",
            "Sinceramente, esto es inaceptable. Si hoy no me contestan abriré una reclamación de la Garantía de la A a la Z.",
        ],
        "thanks": [
            "Muchas gracias, la {product} ha llegado hoy y es perfecta.",
            "Gracias por el cambio tan rápido, ahora funciona todo.",
            "¡Mil gracias por su ayuda!",
        ],
    },
    "ja": {
        "order_status": [
            "{date}に{product}を注文しましたが、配送状況が更新されていません。いつ発送されますか。",
            "注文した商品はいつ届きますか。{days}日前に届く予定でしたが、追跡番号も分かりません。",
            "注文状況を教えていただけますか。お届け予定日を過ぎています。",
        ],
        "not_received": [
            "配送状況では{date}に配達済みとなっていますが、まだ受け取っていません。近所にも確認しました。",
            "{days}日経っても商品が届きません。{product}はプレゼント用でした。",
            "郵便受けや宅配ボックスも確認しましたが、荷物が見つかりませんでした。",
        ],
        "cancel_order": [
            "間違えて二回注文してしまいました。一つをキャンセルしていただけますか。",
            "{product}が不要になったので、注文をキャンセルしたいです。",
            "まだ発送前でしたら、注文を取り消していただけないでしょうか。",
        ],
        "return_request": [
            "{product}のサイズが合わなかったので返品したいです。返送用のラベルを送っていただけますか。",
            "{product}を返品したいのですが、未使用で箱も開けていません。",
            "写真と色がかなり違うので、返品をお願いします。",
        ],
        "refund_status": [
            "{date}に{product}を返送し、そちらに届いているはずですが、まだ返金されていません。",
            "返金はいつになりますか。返品が届いてから{days}日経っています。",
            "Amazonでは返金済みとなっていますが、カードにまだ反映されていません。",
        ],
        "damaged_defective": [
            "届いた{product}が破損していました。箱がつぶれていて、角が割れています。",
            "使い始めて{days}日で{product}が動かなくなりました。電源が入りません。",
            "商品が不良品のようです。ボタンが押せず、異音がします。",
        ],
        "wrong_item": [
            "注文した商品と違うものが届きました。{colour}の{product}を注文したのに、別の商品でした。",
            "サイズが違う商品が届きました。{size}サイズを注文しました。",
            "ラベルには{product}と書いてありますが、中身が違います。",
        ],
        "product_question": [
            "購入前の質問です。{product}は2024年モデルに対応していますか。正確なサイズも教えてください。",
            "{product}には充電器が付属していますか。それとも別売りですか。",
            "{product}は冬に屋外で使用できますか。",
        ],
        "invoice_request": [
            "この注文の領収書を発行していただけますか。会社の経費精算に必要です。",
            "会社名宛ての適格請求書が必要です。アカウントの注文履歴だけでは足りません。",
            "注文番号{order}の請求書を送っていただけますでしょうか。",
        ],
        "address_change": [
            "古い住所のまま注文してしまいました。お届け先を変更していただけますか。",
            "来週は不在のため、配送先を勤務先の住所に変更してください。",
            "まだ住所の変更は可能でしょうか。部屋番号が抜けていました。",
        ],
        "complaint_feedback": [
            "何度連絡しても返信がなく、非常に不満です。対応がひどすぎます。",
            "三回もメッセージを送ったのに返事がありません。このままでは悪い評価をつけます。",
            "本当にありえない対応です。今日中に連絡がなければマーケットプレイス保証を申請します。",
        ],
        "thanks": [
            "{product}が本日届きました。とても気に入りました。ありがとうございます。",
            "迅速に交換していただき、ありがとうございました。問題なく使えています。",
            "ご対応いただき、本当に助かりました。",
        ],
    },
}

INTENTS = list(CORE["en"].keys())
# How often buyers write about what (roughly: "where is it" dominates).
INTENT_WEIGHTS = {
    "order_status": 20, "not_received": 10, "cancel_order": 8, "return_request": 12,
    "refund_status": 8, "damaged_defective": 10, "wrong_item": 6, "product_question": 10,
    "invoice_request": 6, "address_change": 4, "complaint_feedback": 3, "thanks": 3,
}

FILLERS = {
    "en": [
        "I ordered it on {date} with standard delivery.",
        "It was meant to be a birthday present for my sister.",
        "I've bought from your shop before and was always happy.",
        "I'm at home most afternoons if the courier needs to ring.",
        "Please let me know what you need from me.",
        "The order number is {order}.",
        "I can send photos if that helps.",
        "I'd appreciate a quick answer as I'm away from the end of next week.",
    ],
    "de": [
        "Bestellt habe ich am {date} mit Standardversand.",
        "Es sollte ein Geburtstagsgeschenk für meine Schwester sein.",
        "Ich habe schon öfter bei Ihnen bestellt und war immer zufrieden.",
        "Nachmittags bin ich meistens zu Hause.",
        "Geben Sie mir bitte Bescheid, was Sie von mir brauchen.",
        "Die Bestellnummer ist {order}.",
        "Fotos kann ich gerne schicken.",
        "Über eine schnelle Antwort würde ich mich freuen, ab Ende nächster Woche bin ich verreist.",
    ],
    "fr": [
        "J'ai commandé le {date} avec la livraison standard.",
        "C'était un cadeau d'anniversaire pour ma sœur.",
        "J'ai déjà commandé chez vous et j'ai toujours été satisfait.",
        "Je suis chez moi presque tous les après-midi.",
        "Dites-moi ce dont vous avez besoin de ma part.",
        "Le numéro de commande est {order}.",
        "Je peux vous envoyer des photos si besoin.",
        "Merci de me répondre rapidement, je pars en vacances à la fin de la semaine prochaine.",
    ],
    "it": [
        "Ho ordinato il {date} con spedizione standard.",
        "Era un regalo di compleanno per mia sorella.",
        "Ho già comprato da voi altre volte e sono sempre stato soddisfatto.",
        "Il pomeriggio sono quasi sempre a casa.",
        "Fatemi sapere se vi serve qualcosa da parte mia.",
        "Il numero d'ordine è {order}.",
        "Posso mandarvi delle foto se serve.",
        "Vi sarei grato per una risposta veloce, dalla fine della prossima settimana sono via.",
    ],
    "es": [
        "Hice el pedido el {date} con envío estándar.",
        "Era un regalo de cumpleaños para mi hermana.",
        "Ya les he comprado otras veces y siempre he quedado contento.",
        "Por las tardes casi siempre estoy en casa.",
        "Díganme si necesitan algo de mi parte.",
        "El número de pedido es {order}.",
        "Puedo mandarles fotos si hace falta.",
        "Les agradecería una respuesta rápida, a partir del final de la semana que viene estoy de viaje.",
    ],
    "ja": [
        "{date}に通常配送で注文しました。",
        "妹への誕生日プレゼントのつもりでした。",
        "以前にも何度か購入させていただいています。",
        "平日の午後はだいたい在宅しています。",
        "こちらで必要なことがあれば教えてください。",
        "注文番号は{order}です。",
        "必要でしたら写真をお送りします。",
        "来週末から出張のため、早めにご回答いただけると助かります。",
    ],
}

# Subjects the marketplace writes (language of the marketplace) and subjects buyers write.
RELAY_SUBJECT = {
    "en": ["Inquiry from Amazon customer {buyer} (Order: {order})",
           "Additional information required from Amazon customer {buyer} (Order: {order})",
           "Return request from Amazon customer {buyer} (Order: {order})"],
    "de": ["Produktanfrage von Amazon-Kunde {buyer} (Bestellung: {order})",
           "Anfrage zu Bestellung von Amazon-Kunde {buyer} (Bestellung: {order})"],
    "fr": ["Demande de renseignements du client Amazon {buyer} (Commande : {order})",
           "Question sur la commande du client Amazon {buyer} (Commande : {order})"],
    "it": ["Richiesta da parte del cliente Amazon {buyer} (Ordine: {order})",
           "Domanda sull'ordine dal cliente Amazon {buyer} (Ordine: {order})"],
    "es": ["Consulta del cliente de Amazon {buyer} (Pedido: {order})",
           "Pregunta sobre el pedido del cliente de Amazon {buyer} (Pedido: {order})"],
    "ja": ["Amazonのお客様 {buyer} 様からのお問い合わせ (注文番号: {order})",
           "注文に関するお問い合わせ: {buyer} 様 (注文番号: {order})"],
}
BUYER_SUBJECT = {
    "en": ["Where is my order?", "Question about the {product}", "Return", "Re: your order",
           "Problem with my order", "Refund?", "Wrong item received", "Invoice please"],
    "de": ["Wo bleibt meine Bestellung?", "Frage zur {product}", "Rücksendung",
           "AW: Ihre Bestellung", "Problem mit meiner Bestellung", "Erstattung?", "Rechnung"],
    "fr": ["Où est ma commande ?", "Question sur la {product}", "Retour", "RE: votre commande",
           "Problème avec ma commande", "Remboursement ?", "Facture"],
    "it": ["Dov'è il mio ordine?", "Domanda sulla {product}", "Reso", "R: il vostro ordine",
           "Problema con l'ordine", "Rimborso?", "Fattura"],
    "es": ["¿Dónde está mi pedido?", "Pregunta sobre la {product}", "Devolución",
           "RE: su pedido", "Problema con mi pedido", "¿Reembolso?", "Factura"],
    "ja": ["注文した商品について", "{product}について質問", "返品について", "Re: ご注文について",
           "返金について", "領収書の発行について"],
}

# ---- e-mail relay frame -------------------------------------------------------------------

MARKERS = {
    "en": ("------------- Begin message -------------", "------------- End message -------------"),
    "de": ("------------- Beginn der Nachricht -------------", "------------- Ende der Nachricht -------------"),
    "fr": ("------------- Début du message -------------", "------------- Fin du message -------------"),
    "it": ("------------- Inizio messaggio -------------", "------------- Fine messaggio -------------"),
    "es": ("------------- Comienzo del mensaje -------------", "------------- Fin del mensaje -------------"),
    "ja": ("------------- メッセージはここから -------------", "------------- メッセージはここまで -------------"),
}

RELAY_HEAD = {
    "en": "Dear {shop},\n\nYou have received a message from an Amazon customer.\n\nOrder ID: {order}\nItem: {product}\nQuantity: 1\n",
    "de": "Sehr geehrte(r) Verkäufer(in) {shop},\n\nSie haben eine Nachricht von einem Amazon-Kunden erhalten.\n\nBestellnummer: {order}\nArtikel: {product}\nMenge: 1\n",
    "fr": "Cher vendeur {shop},\n\nVous avez reçu un message d'un client Amazon.\n\nNuméro de commande : {order}\nArticle : {product}\nQuantité : 1\n",
    "it": "Gentile venditore {shop},\n\nhai ricevuto un messaggio da un cliente Amazon.\n\nNumero ordine: {order}\nArticolo: {product}\nQuantità: 1\n",
    "es": "Estimado vendedor {shop}:\n\nHas recibido un mensaje de un cliente de Amazon.\n\nNúmero de pedido: {order}\nArtículo: {product}\nCantidad: 1\n",
    "ja": "{shop}様\n\nAmazonのお客様からメッセージが届きました。\n\n注文番号: {order}\n商品: {product}\n数量: 1\n",
}

RELAY_TAIL = {
    "en": "To help resolve the customer's inquiry quickly, please respond directly to this e-mail or via Buyer-Seller Messages in Seller Central. Do not include personal contact details or links to other websites.\n\nWas this e-mail helpful?\nYes: https://sellercentral.{mp}/messaging/feedback?v=1&r=yes\nNo: https://sellercentral.{mp}/messaging/feedback?v=1&r=no\n\nWe hope to see you again soon.\n\nCopyright 2026 Amazon, Inc. or its affiliates. All rights reserved.\nhttps://sellercentral.{mp}\n",
    "de": "Zur Information: Damit Ihr Anliegen schnell geklärt werden kann, antworten Sie bitte direkt auf diese E-Mail oder über die Käufer-Verkäufer-Nachrichten in Seller Central. Bitte geben Sie keine persönlichen Kontaktdaten und keine Links zu anderen Websites an.\n\nWar diese E-Mail hilfreich?\nJa: https://sellercentral.{mp}/messaging/feedback?v=1&r=yes\nNein: https://sellercentral.{mp}/messaging/feedback?v=1&r=no\n\nCopyright 2026 Amazon Europe Core S.à r.l. Alle Rechte vorbehalten.\nhttps://sellercentral.{mp}\n",
    "fr": "Pour résoudre rapidement la demande du client, répondez directement à cet e-mail ou via la messagerie acheteur-vendeur de Seller Central. N'indiquez pas de coordonnées personnelles ni de liens vers d'autres sites.\n\nCet e-mail vous a-t-il été utile ?\nOui : https://sellercentral.{mp}/messaging/feedback?v=1&r=yes\nNon : https://sellercentral.{mp}/messaging/feedback?v=1&r=no\n\nCopyright 2026 Amazon Europe Core S.à r.l. Tous droits réservés.\nhttps://sellercentral.{mp}\n",
    "it": "Per risolvere rapidamente la richiesta del cliente, rispondi direttamente a questa e-mail o tramite il servizio messaggi acquirente-venditore in Seller Central. Non inserire dati di contatto personali né link ad altri siti.\n\nQuesta e-mail ti è stata utile?\nSì: https://sellercentral.{mp}/messaging/feedback?v=1&r=yes\nNo: https://sellercentral.{mp}/messaging/feedback?v=1&r=no\n\nCopyright 2026 Amazon Europe Core S.à r.l. Tutti i diritti riservati.\nhttps://sellercentral.{mp}\n",
    "es": "Para resolver rápidamente la consulta del cliente, responde directamente a este correo electrónico o a través de la mensajería entre compradores y vendedores de Seller Central. No incluyas datos de contacto personales ni enlaces a otros sitios web.\n\n¿Te ha resultado útil este correo?\nSí: https://sellercentral.{mp}/messaging/feedback?v=1&r=yes\nNo: https://sellercentral.{mp}/messaging/feedback?v=1&r=no\n\nCopyright 2026 Amazon Europe Core S.à r.l. Todos los derechos reservados.\nhttps://sellercentral.{mp}\n",
    "ja": "お客様のお問い合わせに迅速に対応するため、このメールに直接返信するか、セラーセントラルの購入者とのメッセージからご返信ください。個人の連絡先や他のウェブサイトへのリンクは記載しないでください。\n\nこのメールはお役に立ちましたか？\nはい: https://sellercentral.{mp}/messaging/feedback?v=1&r=yes\nいいえ: https://sellercentral.{mp}/messaging/feedback?v=1&r=no\n\nCopyright 2026 Amazon.com, Inc. or its affiliates. All rights reserved.\nhttps://sellercentral.{mp}\n",
}

# The seller's earlier reply, quoted under an attribution line.
ATTRIBUTION = {
    "en": "On {wday}, {day} {mon} 2026 at {hh}:{mm}, {shop} <{alias}> wrote:",
    "de": "Am {day}.{monn}.2026 um {hh}:{mm} schrieb {shop} <{alias}>:",
    "fr": "Le {day} {mon} 2026 à {hh}:{mm}, {shop} <{alias}> a écrit :",
    "it": "Il giorno {day} {mon} 2026, alle ore {hh}:{mm}, {shop} <{alias}> ha scritto:",
    "es": "El {day} {mon} 2026, a las {hh}:{mm}, {shop} <{alias}> escribió:",
    "ja": "2026年{monn}月{day}日 {hh}:{mm} {shop} <{alias}>:",
}
WDAYS_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

SELLER_REPLY = {
    "en": ["Hello {name},", "thank you for your order! Your parcel is on its way and should arrive within {days} working days.",
           "If you have any questions, just reply to this message.", "Kind regards", "{shop}"],
    "de": ["Hallo {name},", "vielen Dank für Ihre Bestellung! Ihr Paket ist unterwegs und kommt voraussichtlich in {days} Werktagen an.",
           "Bei Fragen antworten Sie einfach auf diese Nachricht.", "Viele Grüße", "{shop}"],
    "fr": ["Bonjour {name},", "merci pour votre commande ! Votre colis est en route et devrait arriver sous {days} jours ouvrés.",
           "Pour toute question, répondez simplement à ce message.", "Cordialement", "{shop}"],
    "it": ["Ciao {name},", "grazie per il tuo ordine! Il pacco è in viaggio e dovrebbe arrivare entro {days} giorni lavorativi.",
           "Per qualsiasi domanda rispondi pure a questo messaggio.", "Cordiali saluti", "{shop}"],
    "es": ["Hola {name}:", "¡gracias por tu pedido! El paquete está en camino y debería llegar en {days} días laborables.",
           "Si tienes cualquier pregunta, responde a este mensaje.", "Saludos", "{shop}"],
    "ja": ["{name}様", "ご注文ありがとうございます。商品は本日発送いたしました。",
           "{days}営業日以内にお届けの予定です。ご不明な点がございましたら、このメッセージにご返信ください。", "{shop}"],
}

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def weighted(rng, table):
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


class Message:
    """One buyer message: everything both generators need."""
    __slots__ = ("lang", "mp", "alias", "order", "subject", "body", "buyer", "name", "product",
                 "ts", "intent", "shop", "seller_alias", "history")


def order_id(rng, mp):
    return "%s-%07d-%07d" % (rng.choice(ORDER_PREFIX[mp]), rng.randrange(10**7), rng.randrange(10**7))


def alias(rng, mp):
    n = rng.randint(10, 14)
    return "".join(rng.choice(ALNUM) for _ in range(n)) + "@marketplace." + mp


def date_text(rng, lang):
    d = rng.randint(1, 28)
    m = rng.randrange(12)
    if lang == "en":
        return rng.choice(["%d %s" % (d, MONTHS["en"][m]), "Monday", "the %s" % ordinal(d),
                           "%s %d" % (MONTHS["en"][m], d)])
    if lang == "de":
        return rng.choice(["%d. %s" % (d, MONTHS["de"][m]), "Montag", "%d.%d." % (d, m + 1)])
    if lang == "ja":
        return "%d月%d日" % (m + 1, d)
    if lang == "es":
        return "%d de %s" % (d, MONTHS["es"][m])
    return "%d %s" % (d, MONTHS[lang][m])


def ordinal(d):
    suf = "th" if 11 <= d <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return "%d%s" % (d, suf)


def fill(rng, tmpl, lang, product, order):
    if "{" not in tmpl:
        return tmpl
    return tmpl.format(product=product, date=date_text(rng, lang), days=rng.randint(3, 21),
                       order=order, colour=rng.choice(COLOURS[lang]), size=rng.choice(SIZES))


def make_message(rng, i, base_ts=1767225600):
    """Build message number i (base_ts: 2026-01-01T00:00:00Z)."""
    m = Message()
    lang = weighted(rng, LANG_WEIGHTS)
    mp_lang = lang
    if lang == "en" and rng.random() < 0.25:  # English-speaking buyers on EU / JP marketplaces
        mp_lang = rng.choice(["de", "fr", "it", "es", "ja"])
    mp = rng.choice(MARKETPLACES[mp_lang])
    m.lang, m.mp = lang, mp
    m.alias = alias(rng, mp)
    m.seller_alias = alias(rng, mp)
    m.order = order_id(rng, mp)
    m.shop = rng.choice(SHOPS_JA if lang == "ja" else SHOPS)
    m.name = rng.choice(NAMES[lang])
    m.buyer = m.name + ("" if lang == "ja" else " %s." % rng.choice(INITIALS))
    m.product = rng.choice(PRODUCTS[lang])
    m.intent = weighted(rng, INTENT_WEIGHTS)
    m.ts = base_ts + rng.randrange(365 * 86400)

    if rng.random() < 0.65:
        m.subject = rng.choice(RELAY_SUBJECT[mp_lang]).format(buyer=m.buyer, order=m.order)
    else:
        m.subject = rng.choice(BUYER_SUBJECT[lang]).format(product=m.product)

    core = CORE[lang][m.intent]
    parts = []
    g = rng.choice(GREETINGS[lang]).format(shop=m.shop)
    parts.append(g)
    sent = []
    if rng.random() < 0.35:
        sent.append(fill(rng, rng.choice(FILLERS[lang]), lang, m.product, m.order))
    picks = rng.sample(core, 2 if rng.random() < 0.3 else 1)
    sent.extend(fill(rng, s, lang, m.product, m.order) for s in picks)
    if rng.random() < 0.15:  # a second, minor concern
        other = rng.choice(INTENTS)
        sent.append(fill(rng, rng.choice(CORE[lang][other]), lang, m.product, m.order))
    if rng.random() < 0.4:
        sent.append(fill(rng, rng.choice(FILLERS[lang]), lang, m.product, m.order))
    sep = "" if lang == "ja" else " "
    # one or two paragraphs
    if len(sent) > 2 and rng.random() < 0.5:
        k = rng.randint(1, len(sent) - 1)
        parts.append(sep.join(sent[:k]))
        parts.append(sep.join(sent[k:]))
    else:
        parts.append(sep.join(sent))
    closing = rng.choice(CLOSINGS[lang]) + "\n" + m.name
    parts.append(closing)
    body = "\n\n".join(parts)
    if rng.random() < 0.12:
        body += "\n\n" + rng.choice(MOBILE_SIG[lang])
    m.body = body
    m.history = rng.random() < 0.35
    return m


def iso_time(ts, rng=None):
    import time as _t
    if rng is not None and rng.random() < 0.2:
        off = rng.choice([1, 2, 9])
        t = _t.gmtime(ts + off * 3600)
        return _t.strftime("%Y-%m-%dT%H:%M:%S", t) + "+%02d:00" % off
    return _t.strftime("%Y-%m-%dT%H:%M:%SZ", _t.gmtime(ts))


def parse_args(argv, default_seed, usage):
    """The generators' shared command line: N OUT [--seed=S]. Returns
    (n, out, seed), or None after printing usage."""
    args = [a for a in argv[1:] if not a.startswith("--")]
    seed = default_seed
    for a in argv[1:]:
        if a.startswith("--seed="):
            seed = int(a.split("=", 1)[1])
    if len(args) != 2:
        sys.stderr.write(usage)
        return None
    return int(args[0]), args[1], seed
