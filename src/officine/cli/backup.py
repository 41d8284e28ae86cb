"""`officine backup …`: the backup guardian from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from officine.report.safe import SafeConsole, json_text, markup

app = typer.Typer(no_args_is_help=True, help="Sauvegardes prouvées : plan, sauvegarde, vérification, restauration.")
plan_app = typer.Typer(no_args_is_help=True, help="Le plan de sauvegarde (quoi, où, quand).")
schedule_app = typer.Typer(no_args_is_help=True, help="Programmation automatique.")
app.add_typer(plan_app, name="plan")
app.add_typer(schedule_app, name="schedule")
# Paths, labels and restic's messages come from files and repositories: always through
# `markup` (control characters shown, Rich markup escaped).
out = SafeConsole()
err = SafeConsole(stderr=True)

PlanOpt = Annotated[Path | None, typer.Option("--plan", help="Fichier du plan (défaut : dossier de configuration).")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")]


@plan_app.command("init")
def plan_init(
    source: Annotated[list[Path] | None, typer.Option("--source", help="Dossier à sauvegarder.")] = None,
    lgo: Annotated[list[Path] | None, typer.Option("--lgo", help="Dossier des données du LGO.")] = None,
    replace: Annotated[bool, typer.Option("--remplacer", help="Remplacer un plan existant.")] = False,
    plan: PlanOpt = None,
) -> None:
    """Crée le plan avec les dossiers à sauvegarder."""
    from officine.services.backup import plan_init as init  # noqa: PLC0415

    path = init(source or [], lgo or [], plan, replace)
    out.print(f"Plan créé : {markup(path)}. Ajoutez une destination : « officine backup plan add-destination ».")


@plan_app.command("add-destination")
def plan_add_destination(
    dest_id: Annotated[str, typer.Argument(help="Identifiant court, par exemple disque-1.")],
    repository: Annotated[str, typer.Option("--depot", help="Dossier du dépôt (disque) ou adresse restic.")],
    kind: Annotated[str, typer.Option("--type", help="disk, rotated_disk, network ou cloud.")] = "disk",
    place: Annotated[str, typer.Option("--lieu", help="pharmacie, domicile, autre_site ou cloud.")] = "pharmacie",
    label: Annotated[str | None, typer.Option("--nom", help="Nom lisible.")] = None,
    password_file: Annotated[
        Path | None,
        typer.Option("--fichier-mot-de-passe", help="Fichier existant (sinon un mot de passe est créé)."),
    ] = None,
    immutable: Annotated[bool, typer.Option("--non-effacable", help="Dépôt en ajout seulement.")] = False,
    hds_reference: Annotated[str | None, typer.Option("--hds-reference", help="Référence du certificat HDS.")] = None,
    hds_expires: Annotated[str | None, typer.Option("--hds-expiration", help="Fin du certificat (AAAA-MM-JJ).")] = None,
    plan: PlanOpt = None,
) -> None:
    """Ajoute une destination (disque externe, disque en rotation, serveur, hébergeur)."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.services.backup import add_destination  # noqa: PLC0415

    try:
        expires = date.fromisoformat(hds_expires) if hds_expires else None
    except ValueError as exc:
        raise UserError(f"Date d'expiration HDS invalide : {hds_expires} (attendu AAAA-MM-JJ).") from exc
    path, generated = add_destination(
        dest_id=dest_id,
        label=label or dest_id,
        kind=kind,
        place=place,
        repository=repository,
        password_file=password_file,
        immutable=immutable,
        hds_reference=hds_reference,
        hds_expires=expires,
        plan_path=plan,
    )
    out.print(
        f"Destination « {markup(dest_id)} » ajoutée. Mot de passe dans {markup(path)} (lisible par ce compte seul)."
    )
    if generated:
        out.print(
            "[bold]Notez ce mot de passe sur papier et rangez-le au coffre[/bold] : sans lui la sauvegarde "
            "est illisible."
        )
        out.print(f"    {generated}")
    out.print("Initialisez ensuite le dépôt : « officine backup init ».")


@plan_app.command("remove-destination")
def plan_remove_destination(dest_id: str, plan: PlanOpt = None) -> None:
    """Retire une destination du plan (le dépôt lui-même n'est pas effacé)."""
    from officine.services.backup import remove_destination  # noqa: PLC0415

    remove_destination(dest_id, plan)
    out.print(f"Destination « {markup(dest_id)} » retirée du plan ; ses données n'ont pas été touchées.")


@plan_app.command("show")
def plan_show(plan: PlanOpt = None) -> None:
    """Affiche le plan."""
    from officine.backup.plan import KIND_FR, PLACE_FR, load_plan  # noqa: PLC0415

    p = load_plan(plan)
    out.print("[bold]Dossiers sauvegardés[/bold]")
    for s in p.sources:
        out.print(f"  {markup(s.path)}" + (" (LGO)" if s.lgo else ""))
    out.print("[bold]Destinations[/bold]")
    for d in p.destinations:
        hds = ""
        if d.hds is not None:
            hds = f", HDS : {'oui ' + markup(d.hds.reference or '') if d.hds.certified else 'non'}"
        out.print(f"  {markup(d.id)} — {markup(d.label)} : {KIND_FR[d.kind]}, {PLACE_FR[d.place]}{hds}")
    out.print(f"Programmation : {markup(p.schedule)}. {markup(p.paper_copy)}")


@app.command("init")
def init(plan: PlanOpt = None, db: DbOpt = None) -> None:
    """Crée les dépôts restic des destinations présentes."""
    from officine.backup.guardian import init_destination  # noqa: PLC0415
    from officine.services.backup import Guardian  # noqa: PLC0415

    g = Guardian.open(plan, db)
    for d in g.plan.destinations:
        if d.local_path is not None and not d.local_path.parent.exists():
            out.print(f"  {markup(d.id)} : absent (branchez le disque) — ignoré")
            continue
        out.print(f"  {markup(d.id)} : {markup(init_destination(d, g.restic))}")


@app.command("run")
def run(
    destination: Annotated[list[str] | None, typer.Option("--destination", help="Seulement cette destination.")] = None,
    plan: PlanOpt = None,
    db: DbOpt = None,
) -> None:
    """Sauvegarde maintenant vers chaque destination présente."""
    from officine.backup.guardian import run_plan  # noqa: PLC0415
    from officine.services.backup import Guardian  # noqa: PLC0415

    g = Guardian.open(plan, db)
    status = err.status("Sauvegarde…") if err.is_terminal else None
    if status:
        status.start()
    try:
        runs = run_plan(g.plan, g.restic, g.records, destination, progress=status.update if status else None)
    finally:
        if status:
            status.stop()
    labels = {
        "success": "[green]réussie[/green]",
        "partial": "[yellow]incomplète[/yellow]",
        "failed": "[red]échouée[/red]",
        "absent": "[dim]destination absente[/dim]",
    }
    for r in runs:
        size = f", {r.files_total} fichiers" if r.files_total is not None else ""
        out.print(
            f"  {markup(r.destination_id)} : {labels[r.status]}{size}"
            + (f" — {markup(r.message)}" if r.message else "")
        )
    if any(r.status == "failed" for r in runs) or all(r.status == "absent" for r in runs):
        raise typer.Exit(1)


@app.command("drill")
def drill(
    destination: Annotated[list[str] | None, typer.Option("--destination", help="Seulement cette destination.")] = None,
    full: Annotated[bool, typer.Option("--complet", help="Restaurer et comparer tous les fichiers.")] = False,
    plan: PlanOpt = None,
    db: DbOpt = None,
) -> None:
    """Vérifie les dépôts et fait une restauration d'essai comparée aux originaux."""
    from officine.backup.guardian import drill_destination  # noqa: PLC0415
    from officine.services.backup import Guardian  # noqa: PLC0415

    g = Guardian.open(plan, db)
    failed = False
    for d in g.plan.destinations:
        if destination and d.id not in destination:
            continue
        outcome = drill_destination(g.plan, d, g.restic, g.records, full=True if full else None)
        r = outcome.record
        if r.status == "passed":
            out.print(
                f"  {markup(d.id)} : [green]vérification réussie[/green] — {r.files_checked} fichier(s) restauré(s) "
                f"et "
                f"comparé(s){' (tous)' if r.full else ''}, contrôle du dépôt {r.check_subset}"
            )
        elif r.error_code == "absent":
            out.print(f"  {markup(d.id)} : [dim]{markup(r.message or '')}[/dim]")
        else:
            failed = True
            out.print(f"  {markup(d.id)} : [red]ÉCHEC[/red] — {markup(r.message or '')}")
    if failed:
        raise typer.Exit(1)


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    plan: PlanOpt = None,
    db: DbOpt = None,
) -> None:
    """Verdict des règles de sauvegarde ; code 1 si une règle échoue (supervision)."""
    from officine.catalogue.loader import load_messages  # noqa: PLC0415
    from officine.report.terminal import STYLE, SYMBOL  # noqa: PLC0415
    from officine.services.backup import backup_status  # noqa: PLC0415

    results, _facts = backup_status(db, plan)
    failing = [r for r in results if r.verdict.value == "fail"]
    if as_json:
        print(json_text({"ok": not failing, "measures": [r.to_json() for r in results]}))
    else:
        messages = load_messages()
        for r in results:
            label = messages.verdicts.get(r.verdict.value, r.verdict.value)
            out.print(
                f"[{STYLE[r.verdict]}]{SYMBOL[r.verdict]} {label}[/{STYLE[r.verdict]}]  {r.measure.id} "
                f"{markup(r.measure.title)}"
            )
            for e in r.evidence:
                out.print(f"     {markup(e.text)}")
    if failing:
        raise typer.Exit(1)


@app.command("snapshots")
def list_snapshots(destination: str, plan: PlanOpt = None, db: DbOpt = None) -> None:
    """Liste les sauvegardes disponibles sur une destination."""
    from officine.services.backup import Guardian, snapshots  # noqa: PLC0415

    g = Guardian.open(plan, db)
    for s in snapshots(g, destination):
        out.print(
            f"  {markup(s.get('short_id'))}  {markup(str(s.get('time', ''))[:16].replace('T', ' '))}  "
            f"{markup(', '.join(map(str, s.get('paths', []))))}"
        )


@app.command("restore")
def restore(
    destination: Annotated[str, typer.Option("--destination", help="Destination où lire la sauvegarde.")],
    target: Annotated[Path, typer.Option("--vers", help="Dossier où restaurer (vide ou nouveau).")],
    snapshot: Annotated[str, typer.Option("--sauvegarde", help="Identifiant (défaut : la plus récente).")] = "latest",
    include: Annotated[list[str] | None, typer.Option("--seulement", help="Chemin à restaurer.")] = None,
    overwrite: Annotated[
        bool, typer.Option("--ecraser", help="Autoriser la restauration sur les données en service.")
    ] = False,
    plan: PlanOpt = None,
    db: DbOpt = None,
) -> None:
    """Restaure une sauvegarde dans un dossier à part (jamais sur les données en service par défaut)."""
    from officine.services.backup import Guardian  # noqa: PLC0415
    from officine.services.backup import restore as do_restore  # noqa: PLC0415

    g = Guardian.open(plan, db)
    out.print("Étape 1/3 — vérification de la destination et du dossier cible…")
    done = do_restore(g, destination, target, snapshot, include, overwrite)
    out.print(f"Étape 2/3 — restauration vérifiée terminée dans {markup(done)}.")
    out.print(
        "Étape 3/3 — ouvrez quelques fichiers pour contrôler, puis copiez-les à leur place si tout est bon. "
        "En cas de doute, appelez votre prestataire avant de remplacer quoi que ce soit."
    )


@app.command("unlock")
def unlock(destination: str, plan: PlanOpt = None, db: DbOpt = None) -> None:
    """Retire un verrou laissé par une opération interrompue."""
    from officine.services.backup import Guardian  # noqa: PLC0415

    g = Guardian.open(plan, db)
    g.restic.run(g.plan.destination(destination), ["unlock"], timeout=300)
    out.print("Verrou retiré.")


@schedule_app.command("install")
def schedule_install(
    unit_dir: Annotated[Path, typer.Option("--dossier", help="Dossier des unités systemd.")] = Path(
        "/etc/systemd/system"
    ),
    plan: PlanOpt = None,
) -> None:
    """Écrit le service et le minuteur systemd (puis : systemctl enable --now officine-backup.timer)."""
    from officine.backup.plan import load_plan  # noqa: PLC0415
    from officine.services.backup import install_schedule  # noqa: PLC0415

    for path in install_schedule(load_plan(plan), unit_dir):
        out.print(f"  écrit : {markup(path)}")
    out.print("Activez-le : « systemctl daemon-reload && systemctl enable --now officine-backup.timer ».")


@schedule_app.command("remove")
def schedule_remove(
    unit_dir: Annotated[Path, typer.Option("--dossier", help="Dossier des unités systemd.")] = Path(
        "/etc/systemd/system"
    ),
) -> None:
    """Retire le service et le minuteur systemd."""
    from officine.services.backup import remove_schedule  # noqa: PLC0415

    removed = remove_schedule(unit_dir)
    out.print(
        "Retiré : "
        + (markup(", ".join(map(str, removed))) or "rien à retirer")
        + ". Pensez à « systemctl disable --now officine-backup.timer »."
    )


@schedule_app.command("windows")
def schedule_windows() -> None:
    """Affiche la commande de tâche planifiée Windows équivalente."""
    from officine.services.backup import windows_task  # noqa: PLC0415

    out.print("Dans une invite de commandes administrateur :")
    print(windows_task())
