"""`officine incident …`: the attack runbook, isolation, evidence, journal, breach register, report."""

from __future__ import annotations

import getpass
import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from officine.report.safe import SafeConsole, markup, terminal_text

app = typer.Typer(no_args_is_help=True, help="Je pense que nous sommes attaqués : les bons réflexes, pas à pas.")
breach_app = typer.Typer(no_args_is_help=True, help="Registre des violations de données personnelles.")
app.add_typer(breach_app, name="breach")
# Names, notes and paths come from files and people: always through `markup` (control
# characters shown, Rich markup escaped).
out = SafeConsole()

ByOpt = Annotated[str | None, typer.Option("--par", help="Qui agit (nom et fonction).")]
ACTION_REPLIES = {"o": "fait", "oui": "fait", "p": "passe", "passer": "passe", "q": "quitter", "quitter": "quitter"}
QUESTION_REPLIES = {**ACTION_REPLIES, "o": "oui", "oui": "oui", "n": "non", "non": "non"}
# Scripted answers (--script): what each value means for an action step and for a question.
SCRIPT_ACTION = {"fait": "fait", "oui": "fait", True: "fait", "passe": "passe", "non": "passe", False: "passe"}
SCRIPT_QUESTION = {"oui": "oui", True: "oui", "non": "non", False: "non", "passe": "passe"}
FOLLOW_UP = {
    "donnees_personnelles": "Inscrivez la violation au registre maintenant : « officine incident breach record "
    "--nature … » affiche le temps qui reste pour notifier la CNIL (72 heures après la découverte).",
    "cartes_cps": "Faites opposition auprès de l'organisme émetteur de la carte, déposez plainte et prévenez "
    "votre caisse d'assurance maladie.",
}


def _valid_name(name: str) -> str:
    from officine.errors import UserError  # noqa: PLC0415

    cleaned = " ".join(name.split())
    if len(cleaned) < 2 or len(cleaned) > 120 or not cleaned.isprintable():
        raise UserError(
            f"Nom de la personne qui agit invalide : « {name} ». Indiquez un nom et une fonction, "
            'par exemple --par "Marie Martin, titulaire" (120 caractères au plus).'
        )
    return cleaned


def _ask_name() -> str:
    """Who is acting: asked, never taken from the system account (under sudo it is "root")."""
    while True:
        try:
            reply = input("Qui êtes-vous ? Votre nom et votre fonction (par exemple « Marie Martin, titulaire ») : ")
        except EOFError:
            raise typer.Abort() from None
        cleaned = " ".join(reply.split())
        if 2 <= len(cleaned) <= 120 and cleaned.isprintable():
            return cleaned
        out.print("Indiquez votre nom (2 à 120 caractères) : il sera noté à chaque étape du journal.")


def _actor(by: str | None) -> str:
    if by is not None:
        return _valid_name(by)
    if sys.stdin.isatty():
        return _ask_name()
    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = "inconnu"
    return f"compte {account} (nom non indiqué : utilisez --par)"


_shown: set[str] = set()


def _warn(warnings: list[str]) -> None:
    """Each warning once per command, however many entries it concerns."""
    for text in dict.fromkeys(warnings):
        if text not in _shown:
            _shown.add(text)
            out.print(f"[yellow]Attention :[/yellow] {markup(text)}")


def _show_step(step: Any, contacts: dict[str, Any]) -> None:
    from officine.incident.contacts import ROLES, Contact, contacts_file  # noqa: PLC0415

    out.print(f"\n[bold]{markup(step.title)}[/bold]")
    out.print(markup(step.text))
    for role in step.contacts:
        contact = contacts.get(role) or Contact()
        label = ROLES.get(role, role)
        if contact.filled:
            phone = f" — [bold]{markup(contact.phone)}[/bold]" if contact.phone else ""
            name = markup(contact.name or "(sans nom)")
            email = f" — {markup(contact.email)}" if contact.email else ""
            out.print(f"  [cyan]{label}[/cyan] : {name}{phone}{email}")
        else:
            out.print(
                f"  [cyan]{label}[/cyan] : non renseigné (à compléter sur le tableau de bord, page « La pharmacie », "
                f"ou dans {markup(str(contacts_file()))})"
            )


def _read_script(script: Path) -> dict[str, Any]:
    """The prepared answers, checked whole before anything is recorded."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.runbook import steps  # noqa: PLC0415
    from officine.yamlio import read_yaml_file  # noqa: PLC0415

    scripted = read_yaml_file(script, "Le fichier de réponses").data or {}
    if not isinstance(scripted, dict) or not isinstance(scripted.get("steps", {}), dict):
        raise UserError(f"Fichier de réponses invalide ({script}) : « steps » doit associer étape et réponse.")
    by_id = {s.id: s for s in steps()}
    unknown = [str(k) for k in scripted.get("steps", {}) if k not in by_id]
    if unknown:
        raise UserError(f"Étape(s) inconnue(s) dans {script} : {', '.join(unknown)}. Étapes : {', '.join(by_id)}")
    for step_id, answer in scripted.get("steps", {}).items():
        value = answer.get("status") if isinstance(answer, dict) else answer
        allowed = SCRIPT_QUESTION if by_id[step_id].kind == "question" else SCRIPT_ACTION
        if not isinstance(value, str | bool) or value not in allowed:
            words = ", ".join(k for k in allowed if isinstance(k, str))
            raise UserError(
                f"Réponse non comprise pour l'étape « {step_id} » dans {script} : « {value} ». "
                f"Réponses possibles : {words}. Rien n'a été noté."
            )
    for key in ("by", "summary"):
        if key in scripted and not isinstance(scripted[key], str):
            raise UserError(f"Fichier de réponses invalide ({script}) : « {key} » doit être un texte.")
    return scripted


def _ask(step: Any) -> str:
    """The reply to one step: fait / passe / quitter, or oui / non for a question. A typo is asked again."""
    if step.kind == "question":
        prompt = f"{step.title} [o = oui · n = non · p = je ne sais pas encore · q = reprendre plus tard] "
        replies = QUESTION_REPLIES
        hint = "tapez o (oui), n (non), p (je ne sais pas encore) ou q (reprendre plus tard)"
    else:
        prompt = "C'est fait ? [o = oui, c'est fait · p = passer pour l'instant · q = reprendre plus tard] "
        replies = ACTION_REPLIES
        hint = "tapez o (c'est fait), p (passer pour l'instant) ou q (reprendre plus tard)"
    while True:
        reply = _input(prompt, "q").lower()
        if reply in replies:
            return replies[reply]
        out.print(f"Réponse non comprise : {hint}. Rien n'a été noté pour cette étape.")


def _input(prompt: str, at_end: str) -> str:
    """A line typed by the person; `at_end` when the input is closed (Ctrl-D, a closed pipe)."""
    try:
        return input(prompt).strip()
    except EOFError:
        return at_end


@app.command("start")
def start(
    by: ByOpt = None,
    script: Annotated[Path | None, typer.Option("--script", help="Réponses préparées (YAML), sans questions.")] = None,
    summary: Annotated[str, typer.Option("--resume", help="Ce qui se passe, en une phrase.")] = "",
) -> None:
    """Déroule les réflexes un par un ; chaque étape est notée avec l'heure et qui l'a faite."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.contacts import load_contacts  # noqa: PLC0415
    from officine.incident.runbook import STEP_DONE, STEP_SKIPPED, current_incident, open_incident, steps  # noqa: PLC0415

    scripted = _read_script(script) if script is not None else None
    try:
        contacts = load_contacts()
    except UserError as exc:  # under attack, a broken contacts file must not stop the reflexes
        out.print(f"[yellow]Attention :[/yellow] {markup(exc.message)} Les étapes suivent sans vos contacts.")
        contacts = {}
    if scripted is not None:
        named = by or scripted.get("by")
        if not named:
            raise UserError(
                f'Indiquez qui agit : --par "Nom, fonction" ou une ligne « by: Nom, fonction » dans {script}. '
                "Rien n'a été noté."
            )
        actor = _valid_name(named)
    else:
        actor = _valid_name(by) if by is not None else _ask_name()
    incident = current_incident() or open_incident(actor, summary or (scripted or {}).get("summary", ""))
    out.print(f"[bold red]Incident {incident.id}[/bold red] — gardez votre calme, suivez les étapes dans l'ordre.")
    _warn(incident.warnings)
    done = incident.done_steps()
    for step in steps():
        if step.id in done:
            continue
        _show_step(step, contacts)
        note = ""
        if scripted is not None:
            answer = scripted.get("steps", {}).get(step.id)
            if isinstance(answer, dict):
                note, answer = str(answer.get("note", "")), answer.get("status")
            if answer is None:
                continue
            reply = (SCRIPT_QUESTION if step.kind == "question" else SCRIPT_ACTION)[answer]
        else:
            reply = _ask(step)
            if reply == "quitter":
                out.print("Reprenez avec « officine incident start » : les étapes faites sont gardées.")
                return
            if reply == "fait":
                note = _input("Note (facultatif) : ", "")
        if reply == "passe":
            appended = incident.record(actor, STEP_SKIPPED, step=step.id, note=note)
            out.print("  → noté : passé (vous pourrez y revenir)")
        elif step.kind == "question":
            appended = incident.record(actor, STEP_DONE, step=step.id, answer=reply, note=note)
            out.print(f"  → noté : {reply}")
            if reply == "oui" and step.id in FOLLOW_UP:
                out.print(f"  [bold]{markup(FOLLOW_UP[step.id])}[/bold]")
        else:
            appended = incident.record(actor, STEP_DONE, step=step.id, note=note)
            out.print("  → noté : fait")
        _warn(appended.warnings)
    out.print("\nToutes les étapes ont été parcourues. Rapport : « officine incident report --vers rapport.pdf ».")


@app.command("status")
def status() -> None:
    """Où en est l'incident : étapes faites, restantes, délai CNIL, intégrité du journal."""
    from officine.incident.breach import describe_remaining  # noqa: PLC0415
    from officine.incident.register import list_breaches  # noqa: PLC0415
    from officine.incident.runbook import current_incident, steps  # noqa: PLC0415

    incident = current_incident()
    if incident is None:
        out.print("Aucun incident en cours.")
        return
    done = incident.done_steps()
    out.print(f"Incident {markup(incident.id)}")
    for step in steps():
        e = done.get(step.id)
        if e is None:
            out.print(f"  [yellow]…[/yellow]  {markup(step.title)}")
            continue
        answer = f", réponse : {e.detail('answer')}" if e.detail("answer") else ""
        out.print(f"  [green]✔[/green] {e.when()} ({markup(e.actor)}{markup(answer)})  {markup(step.title)}")
    now = datetime.now(UTC)
    for b in list_breaches():
        if not b.notified:
            out.print(f"Violation n° {b.id} : {describe_remaining(b.discovered_at, now)}")
    check = incident.verify()
    out.print(f"Journal : {LABELS[check.status]} ; reçu : {incident.receipt() or 'aucun'}", soft_wrap=True)


@app.command("isolate")
def isolate(by: ByOpt = None) -> None:
    """Coupe tout le réseau de ce poste en le laissant allumé (annulable avec reconnect)."""
    from officine.incident import isolate as iso  # noqa: PLC0415
    from officine.incident.runbook import require_incident  # noqa: PLC0415

    actor = _actor(by)
    incident = require_incident(actor)
    result = iso.isolate(incident.folder / "isolation.json")
    appended = incident.record(
        actor,
        "isolated",
        result=result.describe(),
        interfaces=result.interfaces,
        already=result.already,
        repaired=result.repaired,
    )
    out.print(result.describe())
    _warn([*incident.warnings, *appended.warnings])


@app.command("reconnect")
def reconnect(by: ByOpt = None) -> None:
    """Rétablit exactement le réseau coupé par isolate, et vérifie qu'il l'est."""
    from officine.incident import isolate as iso  # noqa: PLC0415
    from officine.incident.runbook import require_incident  # noqa: PLC0415

    actor = _actor(by)
    incident = require_incident(actor)
    done = iso.reconnect(incident.folder / "isolation.json")
    summary = "; ".join(done.restored + done.failed)
    appended = incident.record(actor, "reconnected", result=summary, complete=done.complete, failed=done.failed)
    _warn([*incident.warnings, *appended.warnings])
    if done.restored:
        out.print("Vérifié : " + ", ".join(done.restored) + ".")
    if not done.complete:
        out.print(
            "[bold red]Réseau pas entièrement rétabli[/bold red] : "
            + markup(", ".join(done.failed))
            + ". L'état d'avant l'isolement est gardé : relancez « officine incident reconnect », ou rallumez "
            "l'interface à la main (« ip link set dev NOM up ») et appelez votre prestataire."
        )
        raise typer.Exit(1)
    out.print("Réseau rétabli comme avant l'isolement.")


@app.command("windows-isolate")
def windows_isolate() -> None:
    """Affiche les commandes qui isolent un poste Windows (à lancer en administrateur)."""
    from officine.incident.isolate import WINDOWS_COMMANDS, WINDOWS_UNDO  # noqa: PLC0415

    out.print("Pour isoler (PowerShell ou invite administrateur) :")
    for cmd in WINDOWS_COMMANDS:
        print(f"  {cmd}")
    out.print("Pour rétablir ensuite :")
    for cmd in WINDOWS_UNDO:
        print(f"  {cmd}")


@app.command("evidence")
def evidence(
    destination: Annotated[Path, typer.Option("--vers", help="Où écrire (idéalement une clé dédiée).")],
    folder: Annotated[list[Path] | None, typer.Option("--dossier", help="Dossier de données à examiner.")] = None,
    hours: Annotated[int, typer.Option("--heures", help="Fichiers modifiés depuis N heures.", min=1)] = 48,
    by: ByOpt = None,
) -> None:
    """Collecte les traces volatiles sans modifier les données, avec un manifeste d'empreintes."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.evidence import EvidenceError, EvidenceIncomplete, collect  # noqa: PLC0415
    from officine.incident.runbook import require_incident  # noqa: PLC0415

    if not destination.is_dir():
        raise UserError(f"Le dossier {destination} n'existe pas : branchez la clé ou créez le dossier.")
    missing = [str(f) for f in folder or [] if not f.is_dir()]
    if missing:
        raise UserError(f"Dossier(s) à examiner introuvable(s) : {', '.join(missing)}. Rien n'a été collecté.")
    actor = _actor(by)
    incident = require_incident(actor)
    try:
        manifest = collect(
            destination,
            folder or [],
            hours,
            on_written=lambda name: out.print(f"  écrit : {name}"),
            keep_rest=incident.folder,
        )
    except EvidenceIncomplete as exc:
        appended = incident.record(
            actor,
            "evidence_collected",
            manifest=str(exc.bundle / "manifeste.json"),
            complete=False,
            written=exc.written,
            missing=exc.missing,
            kept=str(exc.kept or ""),
            result=exc.message,
        )
        _warn([*incident.warnings, *appended.warnings])
        raise
    except EvidenceError as exc:
        appended = incident.record(actor, "evidence_failed", destination=str(destination), result=exc.message)
        _warn([*incident.warnings, *appended.warnings])
        raise
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    appended = incident.record(
        actor, "evidence_collected", manifest=str(manifest), manifest_sha256=digest, complete=True
    )
    _warn([*incident.warnings, *appended.warnings])
    out.print(f"Preuves écrites dans {manifest.parent} (manifeste SHA-256 {digest}).")


LABELS = {"intact": "[green]intact[/green]", "unproven": "[yellow]NON PROUVÉ[/yellow]", "altered": "[red]ALTÉRÉ[/red]"}


@app.command("verify")
def verify(
    receipt: Annotated[
        str | None,
        typer.Option("--recu", help="Reçu imprimé sur un rapport (INCIDENT:NUMÉRO:EMPREINTE) à comparer au journal."),
    ] = None,
) -> None:
    """Vérifie que les journaux d'incident et le registre n'ont été ni modifiés, ni coupés, ni prolongés."""
    from officine.incident.runbook import check_receipt, verify_all  # noqa: PLC0415

    if receipt is not None:
        matches, why = check_receipt(receipt)
        out.print(("[green]Reçu conforme[/green] : " if matches else "[red]Reçu NON CONFORME[/red] : ") + markup(why))
        if not matches:
            raise typer.Exit(1)
        return
    results = verify_all()
    if not results:
        out.print("Aucun journal d'incident sur ce poste.")
    for name, result in results:
        head = result.head
        count = f"{len(result.entries)} entrées" + (f", dernière n° {head[0]}" if head else "")
        out.print(f"{LABELS[result.status]}  {markup(name)} ({count})")
        for p in result.findings:
            out.print(f"    {markup(p.message)}")
        for p in result.notices:
            out.print(f"    [dim]à noter :[/dim] {markup(p.message)}")
    if any(not r.ok for _, r in results):
        raise typer.Exit(1)


@app.command("report")
def report(
    destination: Annotated[Path, typer.Option("--vers", help="Fichier PDF à écrire.")],
    pharmacy: Annotated[str, typer.Option("--pharmacie", help="Nom de la pharmacie.")] = "Pharmacie",
) -> None:
    """Produit le rapport PDF (chronologie, actions, preuves, contacts, points ouverts, reçu d'intégrité)."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.report import build, integrity_text  # noqa: PLC0415
    from officine.incident.runbook import current_incident  # noqa: PLC0415

    incident = current_incident()
    if incident is None:
        raise UserError("Aucun incident en cours.")
    if not destination.parent.is_dir():
        raise UserError(f"Le dossier {destination.parent} n'existe pas : rien n'a été écrit.")
    try:
        written = build(incident, destination, pharmacy)
    except OSError as exc:
        raise UserError(f"Le rapport n'a pas pu être écrit dans {destination} : {exc.strerror or exc}.") from exc
    out.print(f"Rapport écrit : {written}")
    out.print(markup(integrity_text(incident.verify())))
    out.print(
        f"Reçu d'intégrité, à noter et garder hors de ce poste : [bold]{incident.receipt()}[/bold]", soft_wrap=True
    )


@app.command("close")
def close(by: ByOpt = None, note: Annotated[str, typer.Option("--note")] = "") -> None:
    """Clôt l'incident en cours."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.runbook import CLOSED, current_incident  # noqa: PLC0415

    incident = current_incident()
    if incident is None:
        raise UserError("Aucun incident en cours.")
    appended = incident.record(_actor(by), CLOSED, note=note)
    _warn(appended.warnings)
    out.print(f"Incident {incident.id} clos. Reçu d'intégrité : {incident.receipt()}", soft_wrap=True)


@breach_app.command("record")
def breach_record(
    nature: Annotated[str, typer.Option("--nature", help="Ce qui s'est passé.")],
    discovered: Annotated[str | None, typer.Option("--decouverte", help="AAAA-MM-JJTHH:MM (heure de Paris).")] = None,
    people: Annotated[str, typer.Option("--personnes", help="Catégories de personnes.")] = "",
    approx_people: Annotated[int | None, typer.Option("--nombre-personnes")] = None,
    records: Annotated[str, typer.Option("--donnees", help="Catégories de données.")] = "",
    approx_records: Annotated[int | None, typer.Option("--nombre-enregistrements")] = None,
    consequences: Annotated[str, typer.Option("--consequences")] = "",
    measures: Annotated[str, typer.Option("--mesures")] = "",
    contact: Annotated[str, typer.Option("--contact")] = "",
    notified: Annotated[bool, typer.Option("--notifiee", help="Déjà notifiée à la CNIL.")] = False,
    reason: Annotated[str, typer.Option("--raison-non-notification")] = "",
    by: ByOpt = None,
) -> None:
    """Inscrit une violation au registre (obligatoire, notifiée ou non) et affiche le délai."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.breach import PARIS, Breach, describe_remaining  # noqa: PLC0415
    from officine.incident.register import record  # noqa: PLC0415

    try:
        when = datetime.fromisoformat(discovered) if discovered else datetime.now(UTC)
    except ValueError as exc:
        raise UserError(f"Date de découverte invalide : {discovered} (attendu AAAA-MM-JJTHH:MM).") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=PARIS)
    b, appended = record(
        Breach(
            discovered_at=when,
            nature=nature,
            categories_people=people,
            approx_people=approx_people,
            categories_records=records,
            approx_records=approx_records,
            consequences=consequences,
            measures=measures,
            contact=contact,
            notified=notified,
            not_notified_reason=reason,
        ),
        _actor(by),
    )
    out.print(f"Violation n° {b.id} inscrite au registre.")
    _warn(appended.warnings)
    if not b.notified:
        out.print(describe_remaining(b.discovered_at, datetime.now(UTC)))


@breach_app.command("list")
def breach_list() -> None:
    """Le registre des violations."""
    from officine.incident.register import list_breaches  # noqa: PLC0415

    rows = list_breaches()
    if not rows:
        out.print("Registre vide.")
    for b in rows:
        status = "notifiée" if b.notified else f"non notifiée ({b.not_notified_reason or 'à notifier'})"
        out.print(f"n° {b.id}  découverte le {b.discovered_at:%d/%m/%Y %H:%M}  {markup(b.nature)}  — {markup(status)}")


@breach_app.command("draft")
def breach_draft(number: int, pharmacy: Annotated[str, typer.Option("--pharmacie")] = "Pharmacie") -> None:
    """Brouillon du contenu de la notification à la CNIL, à recopier dans son service en ligne."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.breach import cnil_draft  # noqa: PLC0415
    from officine.incident.register import list_breaches  # noqa: PLC0415

    found = next((b for b in list_breaches() if b.id == number), None)
    if found is None:
        raise UserError(f"Pas de violation n° {number} au registre.")
    print(terminal_text(cnil_draft(found, pharmacy, datetime.now(UTC))), end="")
