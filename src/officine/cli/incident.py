"""`officine incident …`: the attack runbook, isolation, evidence, journal, breach register, report."""

from __future__ import annotations

import getpass
import hashlib
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


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "inconnu"


def _show_step(step: Any, contacts: dict[str, dict[str, str]]) -> None:
    from officine.incident.runbook import CONTACT_LABELS  # noqa: PLC0415

    out.print(f"\n[bold]{markup(step.title)}[/bold]")
    out.print(markup(step.text))
    for role in step.contacts:
        c = contacts.get(role)
        label = CONTACT_LABELS.get(role, role)
        if c:
            out.print(
                f"  [cyan]{label}[/cyan] : {markup(c.get('nom', ''))} — [bold]{markup(c.get('telephone', ''))}[/bold]"
            )
        else:
            out.print(f"  [cyan]{label}[/cyan] : non renseigné (à ajouter dans contacts.yaml)")


@app.command("start")
def start(
    by: ByOpt = None,
    script: Annotated[Path | None, typer.Option("--script", help="Réponses préparées (YAML), sans questions.")] = None,
    summary: Annotated[str, typer.Option("--resume", help="Ce qui se passe, en une phrase.")] = "",
) -> None:
    """Déroule les réflexes un par un ; chaque étape est notée avec l'heure et qui l'a faite."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.runbook import current_incident, load_contacts, open_incident, steps  # noqa: PLC0415
    from officine.yamlio import read_yaml_file  # noqa: PLC0415

    scripted: dict[str, Any] | None = None
    if script is not None:
        scripted = read_yaml_file(script, "Le fichier de réponses").data or {}
        if not isinstance(scripted, dict) or not isinstance(scripted.get("steps", {}), dict):
            raise UserError(f"Fichier de réponses invalide ({script}) : « steps » doit associer étape et réponse.")
        known = {s.id for s in steps()}
        unknown = [k for k in scripted.get("steps", {}) if k not in known]
        if unknown:
            raise UserError(f"Étape(s) inconnue(s) dans {script} : {', '.join(unknown)}. Étapes : {', '.join(known)}")
        by = by or scripted.get("by")
    actor = _actor(by)
    try:
        contacts = load_contacts()
    except UserError as exc:  # under attack, a broken contacts file must not stop the reflexes
        out.print(f"[yellow]Attention :[/yellow] {markup(exc.message)} Les étapes suivent sans vos contacts.")
        contacts = {}
    incident = current_incident() or open_incident(actor, summary or (scripted or {}).get("summary", ""))
    out.print(
        f"[bold red]Incident {markup(incident.id)}[/bold red] — gardez votre calme, suivez les étapes dans l'ordre."
    )
    done = incident.done_steps()
    for step in steps():
        if step.id in done:
            continue
        _show_step(step, contacts)
        if scripted is not None:
            answer = scripted.get("steps", {}).get(step.id)
            note = ""
            if isinstance(answer, dict):
                note, answer = str(answer.get("note", "")), answer.get("status")
            if answer in ("fait", "oui", True):
                incident.record(actor, "step_done", step=step.id, note=note)
                out.print("  → noté : fait")
            elif answer in ("passe", "non", False):
                incident.record(actor, "step_skipped", step=step.id, note=note)
                out.print("  → noté : passé")
            continue
        reply = input("Fait ? [o = oui, p = passer, q = reprendre plus tard] ").strip().lower()
        if reply.startswith("q"):
            out.print("Reprenez avec « officine incident start » : les étapes faites sont gardées.")
            return
        if reply.startswith("o"):
            note = input("Note (facultatif) : ").strip()
            incident.record(actor, "step_done", step=step.id, note=note)
            out.print("  → noté : fait")
        else:
            incident.record(actor, "step_skipped", step=step.id)
            out.print("  → noté : passé (vous pourrez y revenir)")
    out.print("\nToutes les étapes ont été parcourues. Rapport : « officine incident report --vers rapport.pdf ».")


@app.command("status")
def status() -> None:
    """Où en est l'incident : étapes faites, restantes, délai CNIL."""
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
        mark = (
            f"[green]✔[/green] {e['at'][:16].replace('T', ' ')} ({markup(e['actor'])})" if e else "[yellow]…[/yellow]"
        )
        out.print(f"  {mark}  {markup(step.title)}")
    now = datetime.now(UTC)
    for b in list_breaches():
        if not b.notified:
            out.print(f"Violation n° {b.id} : {describe_remaining(b.discovered_at, now)}")


@app.command("isolate")
def isolate(by: ByOpt = None) -> None:
    """Coupe tout le réseau de ce poste en le laissant allumé (annulable avec reconnect)."""
    from officine.incident import isolate as iso  # noqa: PLC0415
    from officine.incident.runbook import require_incident  # noqa: PLC0415

    incident = require_incident(_actor(by))
    result = iso.isolate(incident.folder / "isolation.json")
    incident.record(
        _actor(by), "isolated", result=result.describe(), interfaces=result.interfaces, already=result.already
    )
    out.print(markup(result.describe()))


@app.command("reconnect")
def reconnect(by: ByOpt = None) -> None:
    """Rétablit exactement le réseau coupé par isolate."""
    from officine.incident import isolate as iso  # noqa: PLC0415
    from officine.incident.runbook import require_incident  # noqa: PLC0415

    incident = require_incident(_actor(by))
    done = iso.reconnect(incident.folder / "isolation.json")
    incident.record(_actor(by), "reconnected", result="; ".join(done))
    out.print("Réseau rétabli : " + markup(", ".join(done)) + ".")


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
    hours: Annotated[int, typer.Option("--heures", help="Fichiers modifiés depuis N heures.")] = 48,
    by: ByOpt = None,
) -> None:
    """Collecte les traces volatiles sans modifier les données, avec un manifeste d'empreintes."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.evidence import collect  # noqa: PLC0415
    from officine.incident.runbook import require_incident  # noqa: PLC0415

    if not destination.is_dir():
        raise UserError(f"Le dossier {destination} n'existe pas : branchez la clé ou créez le dossier.")
    incident = require_incident(_actor(by))
    manifest = collect(destination, folder or [], hours)
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    incident.record(_actor(by), "evidence_collected", manifest=str(manifest), manifest_sha256=digest)
    out.print(f"Preuves écrites dans {markup(manifest.parent)} (manifeste SHA-256 {digest}).")


@app.command("verify")
def verify() -> None:
    """Vérifie que les journaux d'incident et le registre n'ont pas été modifiés."""
    from officine.incident.journal import verify as verify_journal  # noqa: PLC0415
    from officine.incident.register import register_path  # noqa: PLC0415
    from officine.incident.runbook import verify_all  # noqa: PLC0415

    bad = False
    for name, result in [*verify_all(), ("registre des violations", verify_journal(register_path()))]:
        if result.ok:
            out.print(f"[green]intact[/green]  {markup(name)} ({len(result.entries)} entrées)")
        else:
            bad = True
            out.print(f"[red]ALTÉRÉ[/red]  {markup(name)}")
            for p in result.problems:
                out.print(f"    {markup(p.message)}")
    if bad:
        raise typer.Exit(1)


@app.command("report")
def report(
    destination: Annotated[Path, typer.Option("--vers", help="Fichier PDF à écrire.")],
    pharmacy: Annotated[str, typer.Option("--pharmacie", help="Nom de la pharmacie.")] = "Pharmacie",
) -> None:
    """Produit le rapport PDF (chronologie, actions, preuves, contacts, points ouverts)."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.report import build  # noqa: PLC0415
    from officine.incident.runbook import current_incident  # noqa: PLC0415

    incident = current_incident()
    if incident is None:
        raise UserError("Aucun incident en cours.")
    out.print(f"Rapport écrit : {markup(build(incident, destination, pharmacy))}")


@app.command("close")
def close(by: ByOpt = None, note: Annotated[str, typer.Option("--note")] = "") -> None:
    """Clôt l'incident en cours."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.incident.runbook import current_incident  # noqa: PLC0415

    incident = current_incident()
    if incident is None:
        raise UserError("Aucun incident en cours.")
    incident.record(_actor(by), "incident_closed", note=note)
    out.print(f"Incident {markup(incident.id)} clos.")


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
    b = record(
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
