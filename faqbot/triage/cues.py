"""Cue vocabulary of the reason suggester, as data: how people actually write (no accents, typos, SMS-speak).

Text is folded first (lower case, no accents, punctuation as spaces), SMS-speak expanded (the thesaurus's table, then
`CUE_SPELLINGS`), then near-miss spellings of domain words (the thesaurus's forms and `CUE_WORDS`) corrected. `CONCEPTS` are regexes over that text; `SCORES` say how much each concept,
or each combination of concepts, speaks for a reason. The reason with the best score wins; "autre" when nothing
speaks clearly.
"""
from __future__ import annotations

# SMS-speak, everyday synonyms and near-miss spellings come from the domain thesaurus (data/thesaurus.yaml: its
# `sms` table, its concepts' forms). What stays here is what the patterns below need and a thesaurus cannot say.

# The word the patterns use for a thesaurus concept: every one-word form of the concept is read as this word
# ("courriel", "email", "mél" -> "mail"; "cb", "visa" -> "carte"; "portable" -> "telephone").
PATTERN_WORDS: dict[str, str] = {"courriel": "mail", "sms": "sms", "telephone": "telephone", "cartebancaire": "carte"}

# Inflections and contractions the patterns are written against (token -> replacement, on folded text). Not in the
# thesaurus's SMS table on purpose: "sa" or "u" are words there, where the patterns want "ca", "eu".
CUE_SPELLINGS: dict[str, str] = {
    "sa": "ca", "u": "eu", "stp": "svp", "inscrite": "inscrit", "inscrits": "inscrit", "confirm": "confirmation",
    "confirmations": "confirmation", "recus": "recu", "recue": "recu", "recues": "recu", "recoit": "recois",
    "debiter": "debite", "prelever": "preleve",
}

# Situation words the patterns rely on that are no domain concept (the thesaurus holds the others): a typed word
# within one or two edits of one of these, or of a one-word thesaurus form, is read as it.
CUE_WORDS: tuple[str, ...] = (
    "aujourd", "bloquee", "bouton", "continuer", "correction", "cryptogramme", "demain", "demande", "deplace",
    "devant", "ferme", "fermee", "finaliser", "impossible", "interdit", "jamais", "periment", "plantee",
    "recredite", "renvoie", "somme", "valider",
)

# Up to n characters within one clause: punctuation is gone after folding, so clause words mark the boundary.
CLAUSE = r"(?:(?!\b(?:mais|et|alors|pourtant|j ai|par contre|sauf que)\b).){{0,{}}}"

# Concepts: regexes over the normalized text (ASCII, lower case, single spaces).
# Before a word, what denies it (« aucun rejet », « pas été refusée », « sans refus »): fixed-width look-behinds.
UNDENIED = "".join(f"(?<!{word} )" for word in ("aucun", "pas de", "sans", "ni", "pas", "pas ete", "jamais", "jamais ete"))

# The card paid with is gone (expired, replaced, blocked): read as a concept of its own and as a sign of the
# refund by bank transfer.
CARD_GONE = (
    r"\bcarte\b.{0,30}\b(expir\w*|perim\w*|plus valable|plus valide|n existe plus|annulee|changee|remplacee|bloquee|opposition|fermee|fin de validite)",
    r"\b(expir\w*|perim\w*)\b.{0,20}\bcarte\b",
    r"\b(n ai|j ai) (plus|pas) (la|ma|cette) carte\b|\b(nouvelle|autre) carte\b|\bchang\w* de (carte|banque)\b|\bcompte (ferme|cloture)\b|\bopposition\b",
)

CONCEPTS: dict[str, tuple[str, ...]] = {
    # Money actually left the account.
    "argent-pris": (
        UNDENIED + r"(?<!rien n a ete )(?<!rien ne m a ete )\b(debit\w*|prelev\w*|encaiss\w*|ponction\w*)",
        r"\bj ai (bien |deja |bel et bien )?(ete )?(paye|regle|payer)\b",
        r"\b(et|puis|ai) (j ai )?(bien )?(paye|payer|regle|reglee)\b",
        r"\b(paye|regle|payer) (le stage|mon stage|la formation|l inscription|ma place|la difference|le supplement|le complement|les frais|\d+)",
        r"\b(argent|somme|montant|sous|euros?|€) (a ete |a bien ete |est )?(pris|retire|parti|debit\w*|prelev\w*|enleve)",
        r"\b(pris|retire|enleve) (l argent|la somme|le montant|les frais|la difference|le supplement|\d+)",
        r"\bstage permis\b.{0,40}\b(releve|compte|banque)|\b(releve|compte|banque)\b.{0,40}\bstage permis\b",
        r"\bpaiement (est |a ete |a bien ete )?(passe|valide|effectue|accepte|debit\w*|pris)",
        r"\b\d+ ?(€|euros?)\b.{0,30}\b(compte|releve|banque)",
        r"\bsur mon (releve|compte bancaire)\b",
        r"\b(banque|appli\w*)\b.{0,30}\b(notifi\w*|confirm\w*|valid\w*|affich\w*)\b.{0,10}\b(le )?(paiement|debit|prelevement|operation)\b",
        r"\b(banque|ils|vous|on) (m )?(a|ont|avez) (bien )?(pris|preleve|debite|encaisse)",
        # The payment shows on the bank side: statement, account, banking app.
        r"\b(paiement|transaction|operation|montant|somme|argent|debit)\b.{0,30}\b(apparait|apparaissent|figure|visible|affiche|est sur|est bien sur|present)\b.{0,30}\b(releve|compte|banque|bancaire|application)",
        r"\b(supplement|difference|complement|frais)\b.{0,12}\b(paye|payee|regle|reglee|debite|preleve|pris)",
        r"\bpaye (pour|par carte|en ligne|par cb|\d+)|\bpaye le (report|changement|transfert|supplement)",
        r"\b(somme|argent|montant|paiement)\b.{0,10}\b(partie?|sortie?|passe|parti)\b",
    ),
    # No confirmation arrived.
    "pas-de-confirmation": (
        # A negation reaches up to the next clause ("je ne peux pas rester, j'ai payé et reçu la confirmation").
        r"\b(pas|rien|aucun\w*|jamais|ni|toujours pas|pas encore|sans)\b" + CLAUSE.format(25) + r"\b(recu|mail|sms|confirmation|nouvelle\w*|message|convocation)",
        r"\b(mail|sms|confirmation|message)\b.{0,25}\b(pas|jamais|rien)\b" + CLAUSE.format(15) + r"\b(recu|arrive|venu)",
        r"\b(ni mail|ni sms|ni message)\b",
        r"\bpas de (mail|sms|confirmation|message)",
        r"\bn ai (rien|pas|jamais) recu|\bje ne recois (rien|pas)|\brecu (aucun|rien)",
        r"\bsuis je (bien )?inscrit|\bsi je suis (bien )?inscrit|\bpas sur d etre inscrit",
        r"\b(confirmation|mail|sms)\b.{0,10}\b(rien|zero|aucun\w*|toujours pas|jamais|pas)\b",
        r"\b(rien|pas) (n est |n a ete |ete )?confirm\w*",
        r"\bje suis (inscrit|inscrite) ou pas\b|\bje ne sais pas si je suis (bien )?inscrit",
    ),
    "confirmation-recue": (
        r"\b(j ai|j avais) (bien |pourtant |meme )?(recu|eu) (la |le |mon |ma |les |mes |un |une )?(confirmation|mail|sms|convocation)",
        r"\b(confirmation|convocation)\b.{0,20}\b(en main|sous les yeux|sur mon telephone|a la main)",
        r"\binscription (est |a ete |etait )?(bien )?confirmee",
        r"(?<!pas )(?<!jamais )(?<!rien )(?<!aucun )\b(recu|eu) (la |le |mon |ma |les |mes |un |une )(confirmation|mail de confirmation|sms de confirmation|convocation)",
        r"\bj ai (pourtant |bien |meme |toujours )?(le|mon|ma|la|les|mes) (mail|sms|confirmation|convocation|email)\b",
    ),
    "spams": (r"\bspams?\b|\bindesirable|\bcourrier\w* indesirable",),
    # The sign-up or payment cannot be completed.
    "inscription-bloquee": (
        r"\b(impossible|n arrive pas|n y arrive pas|narrive pas|pas moyen|j arrive pas|peux pas|ne peux pas|parvien\w* pas|reussi\w* pas|echec|echoue|echec\w*)\b.{0,40}\b(inscri\w*|payer|paiement|valider|reserver|reservation|commander)",
        r"\b(inscri\w*|paiement|payer|reserv\w*|carte)\b.{0,40}\b(impossible|bloqu\w*|marche pas|fonctionne pas|passe pas|echou\w*|refus\w*|plante\w*|bug\w*|erreur|beug\w*)",
        r"\b(paiement|carte|transaction)\b.{0,15}\b(refus\w*|declin\w*|rejet\w*|echou\w*)",
        r"\b3d ?secure\b|\b3 d secure\b|\bcode (de )?(validation|securite|confirmation) (de|par|envoye)? ?(la |ma )?banque\b|\bcryptogramme\b|\bcvv\b",
        r"\b(page|site|ecran)\b.{0,20}\b(mouline|charge|recharge|tourne|blanche|plante|bug\w*|bloqu\w*|fige|erreur|ne repond|revient)",
        r"\bclique\w*\b.{0,40}\b(rien ne se passe|rien|marche pas|fonctionne pas|ne se passe)",
        r"\bmouline\b|\bcharge (a l infini|indefiniment|dans le vide|en boucle)",
        r"\b(bouton|etape|formulaire)\b.{0,30}\b(marche|fonctionne|bloque|rien|repond|clique|passe)",
        r"\b(erreur|bug|beug|plant\w*)\b.{0,40}\b(inscri\w*|paiement|payer|reserv\w*)",
        r"\b(veut|veulent|prend|accepte) (pas|plus) (prendre |accepter )?(ma |la |mon )?(carte|paiement|cb)",
        r"\bmessage d erreur\b|\berreur (s affiche|a chaque|au moment|lors)",
        r"\bessaye (deux|plusieurs|\d) (fois|cartes)",
        # The site itself, with nothing else said: what they were doing on it was signing up.
        r"\b(site|application|formulaire|page de paiement|lien)\b.{0,25}\b(marche pas|marche plus|fonctionne pas|fonctionne plus|plante\w*|bug\w*|beug\w*|bloqu\w*|inaccessible)",
        r"\bcode\b.{0,25}\b(banque|bancaire|securite|3d)\b|\b(banque|bancaire)\b.{0,25}\bcode\b",
        r"\b(peux|peut|arrive|parviens) pas (a )?(continuer|avancer|finaliser|terminer|aller plus loin|passer a l etape)",
        r"\b(tente|essaye|recommence)\w*\b.{0,25}\b(payer|paiement|inscri\w*|reserv\w*)\b.{0,30}\b(erreur|refus\w*|echou\w*|rien|bloqu\w*)",
        r"\btransaction (refusee|declinee|echouee|annulee|impossible)",
        r"\b(formulaire|site|page|bouton)\b.{0,15}\b(veut|veulent) (pas|plus)\b",
        # Sent back to the start, or a blank screen, when paying.
        r"\b(renvoie|ramene|revient|retourne|repart)\w* (au|a l|a la) (debut|accueil|depart|premiere etape|page d accueil)\b",
        r"\b(payer|paiement|regler|valider|carte)\b.{0,40}\b(ecran|page)\b.{0,20}\b(blanc\w*|vide|noir\w*|fig\w*)",
        r"\b(payer|paiement|regler|valider)\b.{0,40}\brien ne se passe\b",
    ),
    # The withdrawal period and "Je change d'avis".
    # Said in so many words: it outweighs what the rest of the message is about.
    "retractation-explicite": (
        r"\bretract\w*",
        r"\bchang\w* d avis\b",
        r"\b14 jours\b|\bquatorze jours\b|\b14j\b",
        r"\b(delai|droit)\b.{0,20}\b(depasse|expire|passe|fini|termine|legal)",
    ),
    "retractation": (
        r"\bannul\w* (mon |ma |l |la )?(inscription|reservation|commande|participation)",
        r"\bannul\w*\b.{0,40}\b(refus\w*|impossible|bloqu\w*|marche pas|laisse pas|veut pas|peux pas|trop tard)",
        r"\btrop tard\b",
        r"\b(delai|droit)\b.{0,20}\b(annul\w*|rembours\w*)",
        r"\b(plus|pas) (possible d |moyen d )?(annuler|me desister|me desinscrire|desister)",
        r"\b(laisse|permet|veut) (plus|pas) (m )?(annuler|desister|desinscrire)",
        r"\b(annuler|desist\w*|desinscri\w*)\b.{0,40}\b(il y a \d+|inscrit|inscription|rembours\w*)",
        r"\binscrit\w* il y a \d+ jours",
        r"\bdesist\w*|\bdesinscri\w*",
    ),
    # The visitor (not the centre) wants out: "je veux annuler", "comment annuler", "j'ai annulé".
    "veut-annuler": (
        # "je ne peux pas annuler" wants out; "je ne veux pas annuler" does not.
        r"\b(je|j|on) (?!ne (veux|voudrais|souhaite|souhaiterais|aimerais|voulais|desire|voudrai|souhaitais) (pas|jamais)\b)(ne )?(veux|voudrais|souhaite|souhaiterais|aimerais|voulais|desire|peux|pourrais|dois|vais|voudrai|souhaitais)\b( \w+){0,3} (annuler|me desister|me desinscrire|me retracter|desister|desinscrire)\b",
        r"\b(comment|possible d|moyen d|pouvoir|puis je|peut on|je peux) (faire pour )?(annuler|me desister|me desinscrire)\b",
        r"\bj ai annule\b|\bj annule\b|\bje l ai annule|\bmon annulation\b|\bma demande d annulation",
        r"(?<!pour )(?<!pas )\bannuler (mon|ma|l|la|cette) (stage|inscription|reservation|place|participation|commande|achat)",
        r"\b(je|j) (ne )?(veux|peux|pourrai|vais|souhaite) (plus|pas) (venir|faire (le|ce) stage|participer|y aller|assister)",
    ),
    # A change of date (transfer) the visitor paid for.
    "changement-date": (
        r"\bchang\w* (de |la |ma |mes |mon |le )?(date|dates|session|stage)\b",
        r"\b(modif\w*|deplac\w*) (de |la |ma |mon |du |d |le )?(date|session|stage)\b",
        r"\btransf(e|e)r\w*|\btransfert\w*",
        r"\breport\w*",
        r"\b(autre|nouvelle|nouveau) (date|stage|session)\b",
        r"\b(la )?difference\b|\bsupplement\b|\bcomplement\b|\bfrais de (changement|modification|transfert)",
        # Moving the booking, or to a dearer session and paying the gap.
        r"\bdecal\w*|\b(stage|session|date|formation)\b.{0,30}\bplus cher\w*|\b(l|d) ecart\b",
    ),
    # Said not to be a change of date: a first booking (« ce n'est pas un changement de date », « nouvelle inscription »).
    "pas-de-changement": (
        r"\b(pas|ni|aucun|sans|jamais) (un |une |de |d |le |la )?(changement|modification|report|transfert|decalage)\b",
        r"\b(premiere|nouvelle) inscription\b|\bpremier stage\b",
    ),
    "espace-pas-a-jour": (
        r"\bespace\b.{0,40}\b(pas|rien|toujours|jamais)\b.{0,20}\b(jour|change|modifi\w*|bouge|l ancienne|ancien)",
        r"\b(rien|pas) (n a )?(change|bouge|modifie|mis a jour)\b.{0,30}\b(espace|compte|dossier)",
        r"\btoujours (l |la |le )?l?(ancienne?|meme) (date|stage|session)",
        r"\blancienne? (date|session)\b",
        r"\bpas (ete )?(mis|mise) a jour\b|\btoujours (l |la |le )?l?ancien(ne)?\b",
        r"\brien (dans|sur) (mon|l|le) (espace|compte)\b",
        r"\brien (n a|n est) (change|bouge|modifie|fait)\b|\bpas (ete )?(pris|prise) en compte\b|\b(indique|affiche|montre) (encore|toujours)\b",
        r"\btoujours\b.{0,30}\bqui s affiche\b|\btoujours inscrit\w* (sur|a|au|pour) (le|l|la|mon|ma)\b",
    ),
    # A refund by bank transfer because the card expired.
    "virement": (
        r"\bvirement\b",
        r"\brib\b|\biban\b|\bbic\b|\bcoordonnees bancaires\b|\breleve d identite bancaire",
        *CARD_GONE,
    ),
    # The card paid with no longer exists: a refund cannot go back to it (the transfer's reason).
    "carte-expiree": CARD_GONE,
    "remboursement": (
        r"\brembours\w*|\brecredit\w*",
        r"\b(rendre|recuperer|recevoir|recupere|rendez|veux|voudrais|recupérer|ravoir) (mon |l |notre )?argent\b",
    ),
    # The stage was cancelled by the centre, often at the last minute or on site.
    "annulation": (
        r"\bannul\w*",
        r"\b(pas|plus) (de|d) stage\b|\bstage (n a pas lieu|n aura pas lieu|supprime|n existe plus)",
        r"\b(n a|n aura|n aurait|n avait) pas lieu\b|\bil n y a personne\b|\bpersonne n est (venu|la)\b",
        r"\baucun (animateur|formateur|intervenant)\w*\b.{0,20}\b(venu|present|la)\b",
        r"\bpersonne (n est )?(la|present|sur place|pour nous)\b|\bporte\w* (est |sont |etait )?(close|fermee\w*)|\bsalle (est |etait )?(vide|fermee)",
        r"\bpersonne (ne repond|n ouvre|pour (nous )?(ouvrir|accueillir))|\b(on )?attend\w* depuis\b",
        r"\b(animateur|animatrice|formateur|formatrice|intervenant)\w*\b.{0,12}\b(pas|jamais) (venu|la|present|arrive)\w*|\b(animateur|animatrice|formateur|formatrice)\w* (etait |est )?absent",
    ),
    "centre-ou-sur-place": (
        r"\bcentre\b|\borganisateur\b|\banimateur\w*|\bformateur\w*|\bl hotel\b|\bsur place\b",
        r"\b(devant|dans) (la|le|l) (salle|hotel|batiment|porte|local|centre|accueil)",
        r"\bje suis (la|sur place|devant|arrive\w*|au stage|a l accueil|au centre|a l hotel|dans la salle)\b|\bsommes (la|sur place|devant)|\bon est (la|devant|sur place)",
        r"\b(ce matin|aujourd hui|demain|ce week end|la veille|dernier moment|derniere minute|a l improviste|au dernier)",
        r"\b(appel\w*|telephone|prevenu\w*|sms)\b.{0,40}\bannul\w*",
    ),
    # Turned away on the day although registered.
    "refus-acces": (
        r"\b(pas|plus|ne figure|n apparait|absent\w*) (sur|dans|de) (la|leur) liste\b",
        r"\bnom\b.{0,30}\b(liste|pas|n apparait|figure|absent|trouve)",
        r"\b(pas|plus) sur la liste|\bliste des (stagiaires|inscrits|participants|animateurs)",
        r"\bstage (est |etait )?(plein|complet)|\b(me|m ont|nous|m a) refus\w*|\brefus\w* (de me|que je)",
        r"\bcomplet(e|es|s)?\b|\bplus de place\w*|\bpas de place\w*|\bsurbook\w*|\btrop de (monde|stagiaires|participants)",
        r"\brefus\w* (a |de |l |d )*(entree|acces|entrer|rentrer|participer|au stage|du stage|le stage|la formation)|\b(entree|acces)\b.{0,20}\brefus\w*",
        r"\b(laisse|laissent|laisser|veut|veulent) (pas|plus) (m )?(entrer|rentrer|participer)",
        r"\bpas (inscrit|inscrite) (selon|d apres|pour) (eux|le centre|l animateur|l hotel)",
        r"\bon m a (dit|refuse|renvoye|demande de partir)|\brenvoy\w* chez moi\b|\bmis dehors\b",
        r"\b(dit|dis|disent|pretend\w*|affirm\w*) que je (ne )?(suis|serais|figure) (pas|plus)",
        r"\bpas inscrit\w*\b.{0,40}\b(alors que|pourtant|mais)\b.{0,30}\b(confirmation|mail|sms|paye)",
        r"\bpas de (reservation|inscription) a mon nom|\bne (me )?trouve pas (mon nom|mon inscription|dans)",
        r"\b(dit|dis|disent|indique|explique|affirme|annonce|pretend|repond)\w*\b.{0,6}\bque (je|j)\b.{0,20}\b(pas|plus)\b.{0,10}\b(inscrit|sur la liste|prevu|enregistre|sur leur liste)",
        r"\b(demande|dit|prie) de (partir|repartir|rentrer chez moi|revenir)|\brefoul\w*|\bsoi disant (pas )?(inscrit|complet|plein)",
        r"\b(n avait|n a|n ont|n avaient) pas mon nom\b|\bmon nom (n y|y) (est|etait) pas\b",
    ),
    # Points: the State rejected the re-allocation, or the ANTS (the prefecture, the 3400) asks the centre to act —
    # what the reason is for. Its usual answer asks for the rejection's request number.
    "points-etat": (
        r"\breattribu\w*|\bre attribu\w*|\bservices? de l etat|\bministere|\bservice instructeur|\bcssr\b|\bfichier national",
        # « aucun rejet », « pas été refusée »: said to rule the rejection out.
        r"\b(demande|dossier|points?)\b.{0,30}" + UNDENIED + r"\b(rejet\w*|refus\w*)|" + UNDENIED
        + r"\b(rejet\w*|refus\w*)\b.{0,30}\b(demande|dossier|points?)",
        r"\b(ants|prefecture|3400|agent|administration)\b.{0,80}\b(centre|organisateur|organisme)\b",
        r"\b(centre|organisateur|organisme)\b.{0,40}\b(pas|jamais|rien)\b.{0,15}\b(transmis|envoye|declare)",
        r"\bprefecture\b.{0,40}\b(rejet\w*|dossier|attestation|jamais recu|erreur)|\b(jamais recu)\b.{0,30}\b(attestation|stage|dossier)",
        r"\ben attente\b.{0,40}\b(organisateur|centre|action)\b",
        r"\b(centre|organisateur|organisme) (doit|devait|dois|va devoir) (faire|agir|corriger|transmettre|envoyer|declarer|regulariser|intervenir)",
        r"\b(a|au) (l )?(centre|organisme|organisateur)\b.{0,20}\b(de|d) (corriger|agir|transmettre|declarer|faire|regulariser|intervenir|envoyer|modifier)",
        r"\bcorrection\b.{0,30}\bdossier|\bdossier\b.{0,30}\b(correction|erreur|bloque)|\berreur\b.{0,30}\bdossier",
    ),
    # Points not visible yet after the course, with nothing from the State: the FAQ says it takes days or weeks and
    # the points count from the day after the course (« points-visibles-solde-delai »): not the contact reason.
    "points-attente": (
        r"\bpoints?\b.{0,40}\b(pas|toujours pas|jamais|non)\b.{0,20}\b(credit\w*|recredit\w*|ajout\w*|rendu\w*|recuper\w*|remis|attribu\w*|enregistr\w*)",
        r"\b(pas|jamais|toujours pas|aucun)\b.{0,25}\b(recredit\w*|credit\w*|recuper\w*|attribu\w*|revenu\w*|eu)\b.{0,20}\bpoints?\b",
        r"\bpoints?\b.{0,40}\b(pas|toujours pas|jamais|rien)\b.{0,20}\b(revenu\w*|bouge|remont\w*|apparu\w*|apparai\w*|mis a jour|rajout\w*|visible\w*)",
        r"\b(solde|compteur|fichier|releve)\b.{0,30}\bpoints?\b.{0,30}\b(pas|rien|toujours|inchange|meme)\b",
        r"\bants\b|\bmes points\b|\bsolde de points\b|\bmes points permis\b",
    ),
    # Choices offered (by the centre, after a cancellation).
    "offre": (r"\bpropos\w*|\boffr\w*|\ble choix\b|\bsoit\b.{0,40}\bsoit\b|\bou (bien )?(un |le |etre )?rembours\w*",),
    # Clearly something else: data, complaints, invoices, partnerships.
    "autre-sujet": (
        r"\bdonnees (personnelles)?|\brgpd\b|\bsupprim\w* (mon|mes|toutes) (compte|donnees|informations)|\bdroit a l oubli",
        r"\bplain\w*|\breclamation|\bcomportement\b|\bmal (accueilli|traite|parle)|\birrespectueu\w*|\bimpoli\w*|\binsult\w*",
        r"\bfacture|\bdevis\b|\bpartenariat|\bcpf\b|\bpole emploi|\bfrance travail|\bemploi\b|\brecrut\w*|\bcandidature",
        r"\battestation\b|\bduplicata\b|\bhoraires?\b|\bparking\b|\bdejeuner\b|\brepas\b|\bhandicap\w*|\bacces pmr",
        r"\bavis\b.{0,20}\b(google|trustpilot|note)|\bpublicite\b|\bnewsletter|\bdesabonn\w*",
        r"\bmot de passe\b|\bidentifiant\b|\bconnecter\b|\bconnexion\b|\bchanger (mon|d) (adresse|mail|numero|nom)",
        r"\b(deux|2|plusieurs|3|trois) fois\b.{0,25}\b(preleve|debite|paye|facture)|\b(preleve|debite|paye|facture)\w*\b.{0,25}\b(deux|2|plusieurs|trois) fois\b|\bdouble (prelevement|debit|paiement)",
        r"\ben retard\b|\bretard\b|\bcombien de points\b|\bpermis probatoire\b|\bpermis (a|en) probatoire|\blettre 48|\b48 ?[ns]\b",
        r"\b(reponse|repondu)\b.{0,30}\b(precedent|dernier|premier|mon) (message|mail)|\bdocuments?\b|\bpieces? (a fournir|d identite)",
    ),
}

# How much each concept, or combination of concepts, speaks for each reason.
SCORES: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("debit-sans-confirmation", ("argent-pris",), 1.5),
    ("debit-sans-confirmation", ("pas-de-confirmation",), 1.5),
    ("debit-sans-confirmation", ("argent-pris", "pas-de-confirmation"), 2.5),
    ("debit-sans-confirmation", ("spams",), 1.0),
    ("debit-sans-confirmation", ("changement-date", "argent-pris"), -2.0),
    ("debit-sans-confirmation", ("confirmation-recue",), -1.5),
    ("acces-refuse-jour-j", ("confirmation-recue", "centre-ou-sur-place"), 1.0),
    ("inscription-impossible", ("inscription-bloquee",), 3.0),
    ("inscription-impossible", ("inscription-bloquee", "retractation"), -1.5),
    ("inscription-impossible", ("inscription-bloquee", "veut-annuler"), -1.5),
    # Money taken and nothing received: the payment went through, whatever the page did.
    ("inscription-impossible", ("argent-pris", "pas-de-confirmation"), -2.0),
    ("delai-retractation", ("retractation-explicite",), 5.0),
    ("delai-retractation", ("retractation",), 3.0),
    ("delai-retractation", ("retractation", "remboursement"), 0.5),
    # The visitor wants out: it is the withdrawal period, not a cancellation by the centre.
    ("delai-retractation", ("veut-annuler",), 3.0),
    ("annulation-centre", ("veut-annuler",), -2.0),
    # Cancelled by the centre, moved to another date, and now wanting the money back: the new withdrawal period.
    ("delai-retractation", ("annulation", "changement-date", "remboursement"), 3.5),
    ("annulation-centre", ("annulation", "changement-date", "remboursement"), -1.0),
    # ... unless the transfer or the refund is only being offered: that is the cancellation itself.
    ("delai-retractation", ("annulation", "changement-date", "remboursement", "offre"), -3.5),
    ("annulation-centre", ("annulation", "changement-date", "remboursement", "offre"), 1.0),
    ("delai-retractation", ("annulation", "changement-date", "retractation"), 2.0),
    ("transfert-non-confirme", ("annulation", "changement-date"), -1.0),
    ("transfert-non-confirme", ("changement-date",), 1.0),
    ("transfert-non-confirme", ("changement-date", "argent-pris"), 3.0),
    ("transfert-non-confirme", ("changement-date", "espace-pas-a-jour"), 3.0),
    ("transfert-non-confirme", ("changement-date", "pas-de-confirmation"), 1.5),
    ("transfert-non-confirme", ("espace-pas-a-jour",), 1.5),
    ("remboursement-virement", ("virement",), 3.0),
    ("remboursement-virement", ("virement", "remboursement"), 2.0),
    ("remboursement-virement", ("remboursement",), 0.5),
    ("annulation-centre", ("annulation",), 1.5),
    ("annulation-centre", ("annulation", "centre-ou-sur-place"), 2.5),
    ("acces-refuse-jour-j", ("refus-acces",), 3.5),
    ("acces-refuse-jour-j", ("refus-acces", "centre-ou-sur-place"), 1.0),
    # "Paiement refusé" is a sign-up that failed, not a door that stayed shut.
    ("acces-refuse-jour-j", ("inscription-bloquee",), -1.5),
    ("points-ants", ("points-etat",), 3.5),
    ("points-ants", ("points-attente",), 0.5),
    ("points-ants", ("veut-annuler",), -1.5),
    ("autre", ("autre-sujet",), 2.5),
)

# Below this score nothing speaks clearly enough: the suggestion is "autre".
MIN_SCORE = 1.4
