"""`officine registre lister|ajouter|exporter|importer`: the pharmacy's registers from the
command line (the same service as the dashboard's pages). Everything printed from an entry is
what a person typed: it goes through `markup()`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from officine.report.safe import SafeConsole, json_text, markup

if TYPE_CHECKING:
    from officine.store import Store

app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Registres de la pharmacie : traitements (RGPD), violations, destructions, cartes (CPS), "
        "prestataires (contrats)."
    ),
)
out = SafeConsole()
err = SafeConsole(stderr=True)
REGISTERS = "traitements, violations, destructions, cartes, prestataires"
Register = Annotated[str, typer.Argument(help=f"Le registre : {REGISTERS}.")]
Db = Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")]
By = Annotated[str | None, typer.Option("--par", help="Votre nom, noté dans l'historique.")]


def _store(db: str | None) -> Store:
    from officine.store import Store  # noqa: PLC0415

    return Store(db)


def _public(register: str) -> str:
    from officine.errors import UserError  # noqa: PLC0415
    from officine.registers.schemas import PUBLIC  # noqa: PLC0415

    if register not in PUBLIC:
        raise UserError(f"Registre inconnu : « {register[:40]} ». Registres : {REGISTERS}.")
    return register


def _by(by: str | None) -> str:
    from officine.cli.incident import _actor  # noqa: PLC0415 - one way to name who acts

    return _actor(by)


@app.command("lister")
def lister(
    registre: Register,
    tout: Annotated[bool, typer.Option("--tout", help="Avec les entrées retirées.")] = False,
    historique: Annotated[int | None, typer.Option("--historique", help="Toutes les versions de l'entrée N.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    db: Db = None,
) -> None:
    """Affiche un registre (le registre des traitements est pré-rempli à la première lecture)."""
    from officine.registers import service  # noqa: PLC0415

    register = _public(registre)
    store = _store(db)
    service.open_register(store, register)
    if historique is not None:
        lines = service.history(store, register, historique)
        if as_json:
            print(json_text(lines))
            return
        for line in lines:
            out.print(
                f"[bold]v{line['version']}[/bold] {markup(line['when'])} — "
                f"{markup(line['by'])} : {markup(line['action'])}"
            )
            for key, value in line["data"].items():
                out.print(f"    {markup(key)} : {markup(value)}")
        return
    data = service.table(store, register, tout)
    if as_json:
        print(json_text({"registre": register, "colonnes": data.columns, "lignes": data.rows}))
        return
    out.print(f"[bold]{markup(data.title)}[/bold] — {len(data.rows)} entrée(s)")
    for row in data.rows:
        out.print("")
        for title, value in zip(data.columns, row, strict=True):
            if value:
                out.print(f"  [dim]{markup(title)} :[/dim] {markup(value)}")


@app.command("ajouter")
def ajouter(
    registre: Register,
    champs: Annotated[list[str], typer.Argument(help="champ=valeur … (voir « officine registre champs REGISTRE »).")],
    par: By = None,
    db: Db = None,
) -> None:
    """Ajoute une entrée ; une valeur refusée est expliquée et rien n'est enregistré."""
    from officine.registers import service  # noqa: PLC0415
    from officine.registers.table import pairs  # noqa: PLC0415

    register = _public(registre)
    label = service.add(_store(db), register, pairs(champs), _by(par))
    out.print(f"[green]Enregistré :[/green] {markup(label)}.")


@app.command("champs")
def champs(registre: Register) -> None:
    """Les champs d'un registre, leur sens et les valeurs permises."""
    from officine.registers import service  # noqa: PLC0415

    for name, title, allowed in service.describe_fields(_public(registre)):
        suffix = f" — valeurs : {', '.join(allowed)}" if allowed else ""
        out.print(f"  [bold]{markup(name)}[/bold] : {markup(title)}{markup(suffix)}")


@app.command("exporter")
def exporter(
    registre: Register,
    fichier: Annotated[Path, typer.Argument(help="Le fichier à écrire : .pdf, .ods, .xlsx ou .json.")],
    db: Db = None,
) -> None:
    """Exporte un registre en PDF, en tableur (ODS, XLSX) ou en JSON (pour `importer`)."""
    from officine.registers import service  # noqa: PLC0415

    register = _public(registre)
    content = service.export(_store(db), register, fichier.suffix.lower().lstrip("."))
    service.write_export(fichier, content)
    out.print(f"[green]Exporté :[/green] {markup(str(fichier))} ({len(content)} octets).")


@app.command("importer")
def importer(
    registre: Register,
    fichier: Annotated[Path, typer.Argument(help="Un export JSON d'un registre.")],
    par: By = None,
    db: Db = None,
) -> None:
    """Ajoute les entrées d'un fichier JSON ; toutes sont vérifiées avant qu'aucune ne soit écrite."""
    from officine.registers import service  # noqa: PLC0415
    from officine.userfiles import read_input  # noqa: PLC0415

    register = _public(registre)
    raw = read_input(fichier, 5 * 1024 * 1024, "Le fichier")
    added = service.import_file(_store(db), register, raw, _by(par))
    out.print(f"[green]{len(added)} entrée(s) importée(s)[/green] dans {markup(register)}.")


questionnaire_app = typer.Typer(
    no_args_is_help=True,
    help="Le questionnaire de sécurité du prestataire, daté et signé électroniquement.",
)
PASSWORD_ENV = "OFFICINE_MOT_DE_PASSE_CERTIFICAT"  # noqa: S105 - the name of a variable, not a secret


@questionnaire_app.command("demander")
def demander(
    prestataire: Annotated[int, typer.Argument(help="Le numéro du prestataire dans le registre des prestataires.")],
    fichier: Annotated[
        Path | None, typer.Option("--fichier", help="Écrire aussi le formulaire à remplir hors ligne (.json).")
    ] = None,
    jours: Annotated[int, typer.Option("--jours", help="Durée de validité de la demande (jours).")] = 14,
    par: By = None,
    db: Db = None,
) -> None:
    """Crée une demande : un lien à usage unique pour répondre sur le tableau de bord, et au besoin
    le formulaire à remplir hors ligne."""
    import json  # noqa: PLC0415

    from officine.registers import questionnaire, service  # noqa: PLC0415
    from officine.services.site import load_profile  # noqa: PLC0415

    store = _store(db)
    made = questionnaire.request(store, prestataire, _by(par), jours)
    out.print(f"Demande n° {made.id} pour {markup(made.provider_name)}, valable jusqu'au {made.expires_at:%d/%m/%Y}.")
    out.print("Lien à usage unique (à ouvrir sur le tableau de bord) :")
    out.print(f"/questionnaire/{made.token}", soft_wrap=True)  # one line: copied whole
    out.print("[dim]Ce lien n'est affiché qu'une fois : transmettez-le au prestataire par un canal sûr.[/dim]")
    if fichier is not None:
        profile = load_profile(store)
        name = profile.pharmacy.name if profile else "Pharmacie"
        form = questionnaire.form_document(store, made, name)
        service.write_export(fichier, json.dumps(form, ensure_ascii=False, indent=2).encode("utf-8"))
        out.print(
            f"Formulaire hors ligne : {markup(str(fichier))} (« officine questionnaire remplir » chez le prestataire)."
        )


@questionnaire_app.command("modele")
def modele(
    fichier: Annotated[Path, typer.Argument(help="Le fichier de réponses à préparer (.yaml).")],
) -> None:
    """Écrit un fichier de réponses vide, avec les choix de chaque question en commentaire."""
    from officine.registers import questionnaire, service  # noqa: PLC0415

    service.write_export(fichier, questionnaire.answers_template().encode("utf-8"))
    out.print(f"Modèle écrit : {markup(str(fichier))}. Remplissez-le, puis « officine questionnaire remplir ».")


@questionnaire_app.command("remplir")
def remplir(
    formulaire: Annotated[Path, typer.Argument(help="Le formulaire reçu de la pharmacie (.json).")],
    reponses: Annotated[Path, typer.Option("--reponses", help="Vos réponses (.yaml, voir « modele »).")],
    sortie: Annotated[Path, typer.Option("--sortie", help="Le PDF signé à renvoyer à la pharmacie.")],
    certificat: Annotated[
        Path | None, typer.Option("--certificat", help="Votre certificat et sa clé (.p12 ou .pfx).")
    ] = None,
    creer: Annotated[
        Path | None,
        typer.Option(
            "--creer-certificat", help="Créer un certificat auto-signé dans ce fichier (.p12) et signer avec."
        ),
    ] = None,
    nom: Annotated[str, typer.Option("--nom", help="Nom du signataire (certificat créé).")] = "",
    societe: Annotated[str, typer.Option("--societe", help="Société du signataire (certificat créé).")] = "",
    courriel: Annotated[str, typer.Option("--courriel", help="Courriel du signataire (certificat créé).")] = "",
) -> None:
    """Sur le poste du prestataire : signe les réponses (PAdES) avec sa clé. Le mot de passe du
    certificat est demandé, ou lu dans la variable OFFICINE_MOT_DE_PASSE_CERTIFICAT."""
    import os  # noqa: PLC0415

    from officine.errors import UserError  # noqa: PLC0415
    from officine.registers import questionnaire, service, signing  # noqa: PLC0415
    from officine.userfiles import read_input  # noqa: PLC0415
    from officine.yamlio import read_yaml_file  # noqa: PLC0415

    if (certificat is None) == (creer is None):
        raise UserError("Indiquez soit --certificat VOTRE.p12, soit --creer-certificat NOUVEAU.p12.")
    form = questionnaire.read_form_file(read_input(formulaire, 1024 * 1024, "Le formulaire"))
    answers = questionnaire.answers_of(read_yaml_file(reponses, "Le fichier de réponses").data)
    questionnaire.check_answers(answers)  # before asking for any password
    passphrase = os.environ.get(PASSWORD_ENV) or _password(creer is not None)
    if creer is not None:
        p12 = signing.create_identity(nom, societe, courriel, passphrase)
        service.write_export(creer, p12)
        err.print(
            f"[yellow]Certificat auto-signé créé :[/yellow] {markup(str(creer))}. Aucune autorité ne le garantit : "
            "il prouve que les questionnaires suivants viennent de la même clé, pas qui vous êtes. Gardez-le avec "
            "son mot de passe pour signer les prochains."
        )
    else:
        assert certificat is not None  # noqa: S101 - one of the two, checked above
        p12 = read_input(certificat, 64 * 1024, "Le certificat")
    identity = signing.load_identity(p12, passphrase)
    pdf = questionnaire.sign(form, answers, identity)
    service.write_export(sortie, pdf)
    out.print(
        f"[green]Questionnaire signé[/green] par {markup(identity.subject)} : {markup(str(sortie))}. "
        "Renvoyez ce fichier tel quel à la pharmacie."
    )


def _password(new: bool) -> str:
    from officine.cli.passwords import _secret  # noqa: PLC0415 - one way to read a secret

    first = _secret("Mot de passe du certificat : ")
    if new and _secret("Confirmez le mot de passe : ") != first:
        from officine.errors import UserError  # noqa: PLC0415

        raise UserError("Les deux mots de passe diffèrent : rien n'a été créé.")
    return first


@questionnaire_app.command("importer")
def importer_questionnaire(
    fichier: Annotated[Path, typer.Argument(help="Le PDF signé renvoyé par le prestataire.")],
    par: By = None,
    db: Db = None,
) -> None:
    """Vérifie la signature, le signataire et l'intégrité du PDF, puis l'enregistre."""
    from officine.registers import questionnaire, signing  # noqa: PLC0415
    from officine.userfiles import read_input  # noqa: PLC0415

    raw = read_input(fichier, signing.MAX_PDF_BYTES, "Le PDF")
    done = questionnaire.import_signed(_store(db), raw, _by(par))
    out.print(f"[green]Questionnaire accepté[/green] : {markup(done.provider_name)}, signé par {markup(done.signer)}.")
    if done.self_signed:
        out.print("[yellow]Certificat auto-signé[/yellow] : aucune autorité ne garantit l'identité du signataire.")
    if done.pinned_now:
        out.print("Ce certificat est désormais celui attendu pour les prochains questionnaires de ce prestataire.")
    for remark in done.remarks:
        out.print(f"  [bold yellow]À vérifier :[/bold yellow] {markup(remark)}")
