"""The contact reasons as data: id (a public contract), label, queue, priority, FAQ links, confirmations, fields, checks.

Labels are French source strings marked with `N_` so Babel extracts them; the web layer translates them at display.
A reason names its checks by id; `checks.CHECKS` holds the functions and a test proves every name resolves.
"""
from __future__ import annotations

from dataclasses import dataclass


def N_(text: str) -> str:
    """Mark a string for extraction without translating it here (triage/ does not import Flask)."""
    return text


QUEUES = ("paiement", "inscription", "retractation", "remboursement", "jour-j", "points", "general")
PRIORITIES = ("normal", "high", "urgent")
FIELD_TYPES = ("email", "tel", "date", "datetime", "number", "iban", "text", "choice")  # plain names: a public contract


@dataclass(frozen=True)
class Confirmation:
    """A statement the visitor must certify; `if_not` is what we tell them when they cannot."""

    id: str
    label: str
    if_not: str
    required: bool = True  # False: a check decides when it is needed (e.g. only while a period is still open)


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    type: str = "text"
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    help: str = ""
    # "checks": asked with the pre-checks (the rules need it); "details": asked with the rest of the form.
    step: str = "details"
    max_length: int = 300
    format: str | None = None  # a stricter shape for a "text" field, e.g. "bic"


@dataclass(frozen=True)
class Reason:
    id: str
    label: str
    short: str  # the card's one-line description
    queue: str
    priority: str
    answer: str  # what usually solves it, shown before the form (Markdown)
    faq: tuple[str, ...] = ()  # FAQ entry ids shown with the answer
    confirmations: tuple[Confirmation, ...] = ()
    fields: tuple[Field, ...] = ()
    checks: tuple[str, ...] = ()
    message_required: bool = False

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def confirmation(self, confirmation_id: str) -> Confirmation | None:
        return next((c for c in self.confirmations if c.id == confirmation_id), None)

    @property
    def check_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.step == "checks")

    @property
    def detail_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.step != "checks")


YES_NO = (("non", N_("Non")), ("oui", N_("Oui")))

_EMAIL_USED = Field("email_inscription", N_("Adresse e-mail utilisée lors de l’inscription"), "email")
_PHONE = Field("telephone", N_("Numéro de téléphone"), "tel", help=N_("Pour vous rappeler si nécessaire."))
_PHONE_CALLBACK = Field("telephone", N_("Téléphone pour vous rappeler"), "tel", help=N_("Un portable joignable aujourd’hui."))
_STAGE_DATE = Field("date_stage", N_("Date du stage (premier jour)"), "date")
_STAGE_PLACE = Field("lieu_stage", N_("Lieu du stage (ville et adresse)"), "text")
_SPAMS = Confirmation(
    "spams-verifies",
    N_("J’ai vérifié mes courriers indésirables (spams)."),
    N_("Le message de confirmation arrive souvent dans les courriers indésirables : regardez-y avant de nous écrire."),
)

REASONS: tuple[Reason, ...] = (
    Reason(
        id="debit-sans-confirmation",
        label=N_(
            "Je certifie avoir vérifié mon compte bancaire et avoir réellement été débité(e) "
            "mais je n’ai pourtant pas reçu l’e-mail et le SMS d’inscription"
        ),
        short=N_("Débité(e), mais ni e-mail ni SMS de confirmation"),
        queue="paiement",
        priority="normal",
        answer=N_(
            "Vérifiez d’abord votre compte bancaire : 100 % des personnes qui nous écrivent pour cette raison "
            "n’avaient en réalité pas été débitées. Si aucun débit « STAGE PERMIS » n’apparaît, rien n’a été pris : "
            "refaites simplement votre inscription, de préférence depuis un ordinateur.\n\n"
            "Si le débit apparaît bien : regardez dans vos courriers indésirables, vérifiez l’adresse e-mail saisie "
            "et patientez quelques minutes, la confirmation peut prendre un peu de temps."
        ),
        faq=("debite-sans-confirmation", "aucune-confirmation-paiement", "paiement-page-mouline"),
        confirmations=(
            Confirmation(
                "debit-stage-permis",
                N_("Mon relevé bancaire montre bien un débit « STAGE PERMIS »."),
                N_(
                    "Sans débit « STAGE PERMIS » sur votre relevé, aucun paiement n’a été pris et votre inscription "
                    "n’a pas abouti : refaites simplement votre inscription, de préférence depuis un ordinateur."
                ),
            ),
            _SPAMS,
            Confirmation(
                "adresse-verifiee",
                N_("J’ai vérifié l’adresse e-mail saisie lors de l’inscription."),
                N_("Une faute dans l’adresse e-mail empêche la confirmation d’arriver : vérifiez-la avant de nous écrire."),
            ),
        ),
        fields=(
            Field(
                "paiement_le",
                N_("Date et heure du paiement"),
                "datetime",
                help=N_("Heure de Paris, telle qu’elle figure sur votre relevé ou votre application bancaire."),
                step="checks",
            ),
            _EMAIL_USED,
            _PHONE,
            Field("montant", N_("Montant débité (€)"), "number"),
            Field("ville_stage", N_("Ville du stage"), "text"),
            _STAGE_DATE,
        ),
        checks=("paiement-depuis-15-minutes",),
    ),
    Reason(
        id="inscription-impossible",
        label=N_("Je ne parviens pas à m’inscrire"),
        short=N_("Le paiement ou l’inscription ne passe pas"),
        queue="inscription",
        priority="normal",
        answer=N_(
            "La plupart des blocages viennent du téléphone ou d’une saisie de carte : réessayez depuis un ordinateur, "
            "vérifiez le numéro de carte, la date d’expiration et le cryptogramme, puis validez le code 3-D Secure "
            "envoyé par votre banque. Si la page charge indéfiniment, vérifiez votre compte : sans débit, "
            "l’inscription n’a pas abouti et vous pouvez la refaire."
        ),
        faq=("paiement-echoue", "paiement-page-mouline", "inscription-mobile-bloquee"),
        confirmations=(
            Confirmation(
                "essai-ordinateur",
                N_("J’ai essayé depuis un ordinateur."),
                N_("Beaucoup de navigateurs de téléphone bloquent la dernière étape : essayez depuis un ordinateur."),
            ),
            Confirmation(
                "carte-verifiee",
                N_("J’ai vérifié le numéro de carte, la date d’expiration et le cryptogramme (CVV)."),
                N_("Une erreur de saisie de la carte fait échouer le paiement : vérifiez-la puis réessayez."),
            ),
            Confirmation(
                "code-3d-secure",
                N_("J’ai saisi le code 3-D Secure envoyé par ma banque."),
                N_("Sans le code 3-D Secure de votre banque, le paiement est refusé : validez-le puis réessayez."),
            ),
        ),
        fields=(
            Field("appareil_navigateur", N_("Appareil et navigateur utilisés"), "text", help=N_("Par exemple : ordinateur Windows, Chrome.")),
            Field("erreur_affichee", N_("Message d’erreur affiché"), "text", help=N_("Recopiez-le tel quel si possible.")),
            Field("stage_souhaite", N_("Stage souhaité (ville et date)"), "text"),
        ),
    ),
    Reason(
        id="delai-retractation",
        label=N_("Problème avec mon délai de rétractation"),
        short=N_("Annuler ou changer d’avis : l’Espace Stagiaire refuse"),
        queue="retractation",
        priority="normal",
        answer=N_(
            "Vous pouvez changer d’avis pendant 14 jours après votre paiement, et au plus tard la veille du stage "
            "à 18:00, directement dans votre Espace Stagiaire, rubrique « Je change d’avis ». "
            "Si le centre a annulé votre stage et vous a transféré sur un autre, un nouveau délai de 14 jours court "
            "à partir du transfert. Une fois le délai passé, l’inscription ne peut plus être remboursée."
        ),
        faq=("droit-retractation-14-jours", "delai-retractation-annuler-modifier", "changer-avis-apres-delai"),
        confirmations=(
            Confirmation(
                "espace-refuse",
                N_("J’ai essayé dans « Je change d’avis » et mon Espace Stagiaire refuse ma demande."),
                N_(
                    "Votre délai de rétractation est encore ouvert : faites votre demande vous-même dans votre "
                    "Espace Stagiaire, rubrique « Je change d’avis ». Écrivez-nous seulement si elle est refusée."
                ),
                required=False,
            ),
        ),
        fields=(
            Field("date_paiement", N_("Date du paiement"), "date", step="checks"),
            Field("premier_jour_stage", N_("Premier jour du stage réservé"), "date", step="checks"),
            Field(
                "annulation_centre",
                N_("Le centre a-t-il annulé ce stage et vous a-t-il transféré(e) sur un autre ?"),
                "choice",
                choices=YES_NO,
                step="checks",
            ),
            Field("date_transfert", N_("Date du transfert"), "date", required=False, step="checks",
                  help=N_("Seulement si le centre a annulé votre stage.")),
            Field("premier_jour_nouveau_stage", N_("Premier jour du nouveau stage"), "date", required=False,
                  step="checks", help=N_("Seulement si le centre a annulé votre stage.")),
        ),
        checks=("delai-retractation",),
    ),
    Reason(
        id="transfert-non-confirme",
        label=N_("J’ai payé un changement de date, j’ai été débité(e) mais je n’ai pas de confirmation"),
        short=N_("Changement de date payé, Espace Stagiaire pas mis à jour"),
        queue="paiement",
        priority="high",
        answer=N_(
            "Après un changement de date payé, votre Espace Stagiaire et un e-mail de confirmation sont mis à jour "
            "en quelques minutes. Vérifiez que le débit apparaît sur votre compte et regardez dans vos courriers "
            "indésirables. Sans débit, le changement n’a pas été pris en compte : refaites-le depuis votre Espace."
        ),
        faq=("transfert-ajout-argent-non-confirme", "transfert-confirmation-non-recue", "changer-date-stage"),
        confirmations=(
            Confirmation(
                "debit-visible",
                N_("Le débit du changement de date apparaît sur mon compte bancaire."),
                N_("Sans débit, le changement de date n’a pas été payé : refaites-le depuis votre Espace Stagiaire."),
            ),
            _SPAMS,
        ),
        fields=(
            Field("date_transfert", N_("Date du changement de date (paiement)"), "date"),
            Field("montant", N_("Montant débité (€)"), "number"),
        ),
        checks=("dates-passees",),
    ),
    Reason(
        id="remboursement-virement",
        label=N_("Être remboursé(e) par virement car ma carte a expiré"),
        short=N_("Remboursement par virement : carte expirée"),
        queue="remboursement",
        priority="normal",
        answer=N_(
            "Les remboursements se font par recrédit de la carte utilisée. Le virement n’est possible qu’à titre "
            "exceptionnel, si cette carte a expiré : demandez d’abord le remboursement dans votre Espace Stagiaire, "
            "rubrique « Je change d’avis », puis transmettez-nous vos coordonnées bancaires avec ce formulaire sécurisé."
        ),
        faq=("remboursement-virement-bancaire", "carte-expiree-remboursement", "delai-remboursement"),
        confirmations=(
            Confirmation(
                "remboursement-demande",
                N_("J’ai déjà demandé le remboursement dans « Je change d’avis »."),
                N_("Demandez d’abord le remboursement dans votre Espace Stagiaire, rubrique « Je change d’avis »."),
            ),
            Confirmation(
                "carte-expiree",
                N_("La carte utilisée lors de l’inscription a expiré."),
                N_("Si votre carte est toujours valide, le remboursement y sera recrédité automatiquement."),
            ),
        ),
        fields=(
            Field("titulaire", N_("Titulaire du compte"), "text", max_length=140),
            Field("iban", N_("IBAN"), "iban", help=N_("Par exemple FR76 3000 6000 0112 3456 7890 189. Il est chiffré.")),
            Field("bic", N_("BIC"), "text", format="bic", max_length=20, help=N_("8 ou 11 caractères, par exemple AGRIFRPP.")),
        ),
    ),
    Reason(
        id="annulation-centre",
        label=N_("Mon stage a été annulé à l’improviste ou sur place"),
        short=N_("Stage annulé au dernier moment ou sur place"),
        queue="jour-j",
        priority="urgent",
        answer=N_(
            "Quand un centre annule, vous êtes prévenu(e) par e-mail et SMS et un autre stage ou un avoir vous est "
            "proposé dans votre Espace Stagiaire. Si l’annulation est imprévue ou si vous l’apprenez sur place, "
            "écrivez-nous : notre équipe traite ces demandes en priorité."
        ),
        faq=("annulation-centre-imprevue", "stage-annule-sur-place", "stage-annule-par-centre-avoir"),
        fields=(_STAGE_DATE, _STAGE_PLACE, _PHONE_CALLBACK),
    ),
    Reason(
        id="acces-refuse-jour-j",
        label=N_("Mon nom n’est pas sur la liste ou on m’a refusé l’entrée (stage « complet »)"),
        short=N_("Refusé(e) à l’entrée ou absent(e) de la liste"),
        queue="jour-j",
        priority="urgent",
        answer=N_(
            "Si votre inscription vous a été confirmée par e-mail et SMS, vous avez votre place. Montrez la "
            "confirmation à l’animateur et écrivez-nous tout de suite : notre équipe traite ces demandes en priorité."
        ),
        faq=("nom-absent-liste-jour-j", "refuse-stage-complet"),
        confirmations=(
            Confirmation(
                "confirmation-recue",
                N_("J’ai reçu l’e-mail et le SMS de confirmation de mon inscription."),
                N_(
                    "Sans e-mail ni SMS de confirmation, votre inscription n’a probablement pas abouti : vérifiez "
                    "votre compte bancaire. Si vous avez été débité(e), choisissez le motif « débité(e) sans confirmation »."
                ),
            ),
        ),
        fields=(_STAGE_DATE, _STAGE_PLACE, _PHONE_CALLBACK),
    ),
    Reason(
        id="points-ants",
        label=N_("Réattribution de points rejetée, ou l’ANTS demande une action du centre"),
        short=N_("Points : rejet de l’État ou action du centre demandée"),
        queue="points",
        priority="normal",
        answer=N_(
            "Les points sont crédités par les services de l’État après le stage, pas par nous. Si votre demande de "
            "réattribution a été rejetée, ou si l’ANTS indique que le centre doit agir sur votre dossier, "
            "écrivez-nous avec le numéro de demande : nous transmettons au centre organisateur."
        ),
        faq=("reattribution-points-rejetee", "ants-action-centre-organisateur", "points-visibles-solde-delai"),
        fields=(
            Field("numero_demande", N_("Numéro de la demande (ANTS)"), "text", max_length=60),
            Field("premier_jour_stage", N_("Premier jour du stage"), "date"),
            Field("second_jour_stage", N_("Second jour du stage"), "date"),
        ),
        checks=("dates-stage-coherentes",),
    ),
    Reason(
        id="autre",
        label=N_("Autre demande"),
        short=N_("Aucun de ces cas"),
        queue="general",
        priority="normal",
        answer=N_(
            "Décrivez votre demande : nous vous montrons d’abord les réponses de la FAQ qui s’en rapprochent, "
            "la plupart des questions y trouvent leur réponse immédiatement."
        ),
        faq=("contact-service-client",),
        confirmations=(
            Confirmation(
                "aucune-reponse-faq",
                N_("J’ai lu les réponses proposées et aucune ne répond à ma demande."),
                N_("Lisez les réponses proposées : elles règlent la plupart des demandes sans attendre notre retour."),
            ),
        ),
        message_required=True,
    ),
)

REASONS_BY_ID: dict[str, Reason] = {reason.id: reason for reason in REASONS}


def get_reason(reason_id: object) -> Reason | None:
    # Any JSON value can arrive here from the API (a list is unhashable): only a string can name a reason.
    return REASONS_BY_ID.get(reason_id) if isinstance(reason_id, str) else None
