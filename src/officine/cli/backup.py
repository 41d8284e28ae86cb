"""`officine backup …`: the backup guardian from the command line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from officine.errors import UserError
from officine.report.safe import SafeConsole, json_text, markup

if TYPE_CHECKING:
    from officine.backup.exits import BackupExit
    from officine.services.backup import Guardian

T = TypeVar("T")

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
    replace: Annotated[
        bool, typer.Option("--remplacer", help="Remplacer les dossiers d'un plan existant (destinations gardées).")
    ] = False,
    plan: PlanOpt = None,
) -> None:
    """Crée le plan avec les dossiers à sauvegarder."""
    from officine.backup.plan import load_plan  # noqa: PLC0415
    from officine.services.backup import plan_init as init  # noqa: PLC0415
    from officine.services.backup import previous_plans  # noqa: PLC0415

    path = init(source or [], lgo or [], plan, replace)
    kept = load_plan(path).destinations
    if not replace or not previous_plans(path):
        out.print(f"Plan créé : {markup(path)}. Ajoutez une destination : « officine backup plan add-destination ».")
        return
    out.print(
        f"Dossiers du plan remplacés : {markup(path)}. L'ancien plan est gardé dans {markup(previous_plans(path)[0])}."
    )
    if kept:
        out.print("Destinations conservées : " + ", ".join(markup(d.id) for d in kept) + ".")
    else:
        out.print(
            "[yellow]Aucune destination reprise[/yellow] (l'ancien plan n'en avait pas, ou était illisible) : "
            "ajoutez-les avec « officine backup plan add-destination »."
        )


@plan_app.command("add-source")
def plan_add_source(
    folder: Annotated[Path, typer.Argument(help="Dossier à ajouter.")],
    lgo: Annotated[bool, typer.Option("--lgo", help="C'est le dossier des données du LGO.")] = False,
    plan: PlanOpt = None,
) -> None:
    """Ajoute un dossier à sauvegarder."""
    from officine.services.backup import add_source  # noqa: PLC0415

    add_source(folder, lgo, plan)
    out.print(f"Dossier ajouté au plan : {markup(str(folder.resolve()))}.")


@plan_app.command("remove-source")
def plan_remove_source(
    folder: Annotated[Path, typer.Argument(help="Dossier à retirer.")],
    plan: PlanOpt = None,
) -> None:
    """Retire un dossier du plan (ses sauvegardes passées restent dans les dépôts)."""
    from officine.services.backup import remove_source  # noqa: PLC0415

    remove_source(folder, plan)
    out.print(f"Dossier retiré du plan : {markup(str(folder))} ; ses sauvegardes passées restent dans les dépôts.")


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
    from officine.backup.guardian import init_destination, on_system_disk, where  # noqa: PLC0415
    from officine.services.backup import Guardian  # noqa: PLC0415

    g = Guardian.open(plan, db)
    for d in g.plan.destinations:
        presence = where(d, g.restic, g.records)
        if presence.state == "absent" or (d.local_path is not None and not d.local_path.parent.exists()):
            out.print(f"  {markup(d.id)} : absent (branchez le disque) — ignoré")
            continue
        out.print(f"  {markup(d.id)} : {markup(init_destination(d, g.restic))}")
        if on_system_disk(d):
            out.print(
                f"    [yellow]Attention[/yellow] : le dépôt de « {markup(d.label)} » est sur le disque système, "
                "pas sur un disque externe. Le disque était-il bien branché et monté ?"
            )


def _targets(g: Guardian, destination: list[str] | None) -> list[str] | None:
    """Check the --destination names against the plan (a typo is bad input, not 'nothing to do')."""
    for dest_id in destination or []:
        g.plan.destination(dest_id)
    return destination or None


NO_DESTINATION = (
    "Le plan n'a aucune destination : rien n'a été {done}. Ajoutez-en une avec "
    "« officine backup plan add-destination ID --depot DOSSIER », puis « officine backup init »."
)
RUN_LABELS = {
    "success": "[green]réussie[/green]",
    "partial": "[yellow]incomplète[/yellow]",
    "failed": "[red]ÉCHEC[/red]",
    "absent": "[dim]non faite[/dim]",
}


@app.command("run")
def run(
    destination: Annotated[list[str] | None, typer.Option("--destination", help="Seulement cette destination.")] = None,
    accept_drop: Annotated[
        bool,
        typer.Option("--accepter-baisse", help="Une forte baisse d'un dossier est voulue (archivage) : l'accepter."),
    ] = False,
    verify: Annotated[
        bool, typer.Option("--verifier", help="Puis vérifier (restauration d'essai), comme le fait la programmation.")
    ] = False,
    plan: PlanOpt = None,
    db: DbOpt = None,
) -> None:
    """Sauvegarde maintenant vers chaque destination présente. Codes de retour : voir docs/backups.md."""
    from officine.backup.exits import BackupExit, for_runs, worst  # noqa: PLC0415
    from officine.backup.guardian import Busy, exclusive, run_plan  # noqa: PLC0415
    from officine.services.backup import Guardian  # noqa: PLC0415

    g = Guardian.open(plan, db)
    only = _targets(g, destination)
    if not g.plan.destinations:
        err.print(NO_DESTINATION.format(done="sauvegardé"))
        raise typer.Exit(BackupExit.NOTHING_DONE)
    if not g.plan.sources:
        raise UserError(
            "Le plan ne contient aucun dossier : ajoutez-en avec « officine backup plan add-source DOSSIER »."
        )
    try:
        with exclusive():
            runs = _with_status(
                "Sauvegarde…",
                lambda update: run_plan(g.plan, g.restic, g.records, only, progress=update, accept_drop=accept_drop),
            )
            code = for_runs(runs)
            for r in runs:
                size = f", {r.files_total} fichiers" if r.files_total is not None and r.status != "failed" else ""
                out.print(
                    f"  {markup(r.destination_id)} : {RUN_LABELS[r.status]}{size}"
                    + (f" — {markup(r.message)}" if r.message else "")
                )
            if code == BackupExit.NOTHING_DONE:
                out.print("Rien n'a été sauvegardé : aucune destination n'est branchée ou joignable.")
            if verify:
                code = worst(code, _drill(g, only, full=False))
    except Busy as exc:
        err.print(exc.message)
        raise typer.Exit(BackupExit.NOTHING_DONE) from exc
    raise typer.Exit(code)


def _with_status(label: str, work: Callable[[Callable[[str], None] | None], T]) -> T:
    status = err.status(label) if err.is_terminal else None
    if status:
        status.start()
    try:
        return work(status.update if status else None)
    finally:
        if status:
            status.stop()


def _drill(g: Guardian, only: list[str] | None, full: bool) -> BackupExit:
    """Drill each destination (or those in `only`), print the outcome; the exit code."""
    from officine.backup.exits import BackupExit, for_drills  # noqa: PLC0415
    from officine.backup.guardian import drill_destination, survey_sources  # noqa: PLC0415

    targets = [d for d in g.plan.destinations if not only or d.id in only]
    if not targets:
        err.print(NO_DESTINATION.format(done="vérifié"))
        return BackupExit.NOTHING_DONE
    counts = survey_sources(g.plan, g.records)
    records = []
    for d in targets:
        outcome = drill_destination(g.plan, d, g.restic, g.records, full=True if full else None, counts=counts)
        r = outcome.record
        records.append(r)
        if r.status == "passed":
            compared = (r.details or {}).get("compared", r.files_checked)
            out.print(
                f"  {markup(d.id)} : [green]vérification réussie[/green] — {r.files_checked} fichier(s) restauré(s) "
                f"et vérifié(s), dont {compared} comparé(s) à l'original{' (tous)' if r.full else ''}, "
                f"contrôle du dépôt {r.check_subset}"
            )
        elif r.error_code in ("absent", "unseen"):
            out.print(f"  {markup(d.id)} : [dim]{markup(r.message or '')}[/dim]")
        else:
            out.print(f"  {markup(d.id)} : [red]ÉCHEC[/red] — {markup(r.message or '')}")
    code = for_drills(records)
    if code == BackupExit.NOTHING_DONE:
        out.print(
            "[bold]Rien n'a été vérifié[/bold] : aucune destination n'est branchée ou joignable. "
            "Branchez un disque de sauvegarde puis relancez « officine backup drill »."
        )
    return code


@app.command("drill")
def drill(
    destination: Annotated[list[str] | None, typer.Option("--destination", help="Seulement cette destination.")] = None,
    full: Annotated[bool, typer.Option("--complet", help="Restaurer et comparer tous les fichiers.")] = False,
    plan: PlanOpt = None,
    db: DbOpt = None,
) -> None:
    """Vérifie les dépôts et fait une restauration d'essai comparée aux originaux. Codes de retour : voir
    docs/backups.md."""
    from officine.backup.exits import BackupExit  # noqa: PLC0415
    from officine.backup.guardian import Busy, exclusive  # noqa: PLC0415
    from officine.services.backup import Guardian  # noqa: PLC0415

    g = Guardian.open(plan, db)
    only = _targets(g, destination)
    try:
        with exclusive():
            code = _drill(g, only, full)
    except Busy as exc:
        err.print(exc.message)
        raise typer.Exit(BackupExit.NOTHING_DONE) from exc
    raise typer.Exit(code)


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    plan: PlanOpt = None,
    db: DbOpt = None,
) -> None:
    """Verdict des règles de sauvegarde ; code 1 si une règle échoue, 4 si l'une est à surveiller ou
    invérifiable (supervision, voir docs/backups.md)."""
    from officine.backup.exits import for_verdicts  # noqa: PLC0415
    from officine.backup.plan import default_plan_path, load_plan  # noqa: PLC0415
    from officine.catalogue.loader import load_messages  # noqa: PLC0415
    from officine.report.terminal import STYLE, SYMBOL  # noqa: PLC0415
    from officine.services.backup import backup_status  # noqa: PLC0415

    if (plan or default_plan_path()).exists():
        load_plan(plan)  # a corrupt plan is bad input here: say so (the audit shows it as unknown)
    results, _facts = backup_status(db, plan)
    code = for_verdicts(r.verdict.value for r in results)
    if as_json:
        print(json_text({"ok": code == 0, "exit_code": int(code), "measures": [r.to_json() for r in results]}))
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
    raise typer.Exit(code)


@app.command("prune")
def prune(destination: str, plan: PlanOpt = None, db: DbOpt = None) -> None:
    """Applique la rétention du plan et récupère la place des sauvegardes oubliées (restic forget --prune)."""
    from officine.backup.exits import BackupExit  # noqa: PLC0415
    from officine.backup.guardian import Busy, exclusive, prune_destination, where  # noqa: PLC0415
    from officine.backup.restic import ResticError  # noqa: PLC0415
    from officine.services.backup import Guardian  # noqa: PLC0415

    g = Guardian.open(plan, db)
    dest = g.plan.destination(destination)
    presence = where(dest, g.restic, g.records)
    if presence.state != "here":
        err.print(presence.why[:1].upper() + presence.why[1:] + ". Rien n'a été fait.")
        raise typer.Exit(BackupExit.NOTHING_DONE if presence.state in ("absent", "unseen") else BackupExit.FAILED)
    try:
        with exclusive():
            _with_status(
                "Rétention et récupération de la place…", lambda _update: prune_destination(g.plan, dest, g.restic)
            )
    except Busy as exc:
        err.print(exc.message)
        raise typer.Exit(BackupExit.NOTHING_DONE) from exc
    except ResticError as exc:  # a failure of the repository, not bad input
        err.print(f"[red]ÉCHEC[/red] — {markup(exc.message)}")
        raise typer.Exit(BackupExit.FAILED) from exc
    r = g.plan.retention
    out.print(
        f"Rétention appliquée sur « {markup(dest.label)} » : gardées {r.keep_daily} quotidiennes, {r.keep_weekly} "
        f"hebdomadaires, {r.keep_monthly} mensuelles ; la place des autres est libérée. Les sauvegardes "
        "marquées douteuses sont conservées."
    )


@app.command("snapshots")
def list_snapshots(destination: str, plan: PlanOpt = None, db: DbOpt = None) -> None:
    """Liste les sauvegardes disponibles sur une destination."""
    from officine.backup import fr  # noqa: PLC0415
    from officine.backup.compare import mtime_ns  # noqa: PLC0415
    from officine.backup.guardian import SUSPECT_TAG  # noqa: PLC0415
    from officine.services.backup import Guardian, snapshots  # noqa: PLC0415

    g = Guardian.open(plan, db)
    rows = snapshots(g, destination)
    if not rows:
        out.print("Aucune sauvegarde sur cette destination.")
    for s in rows:
        ns = mtime_ns(s.get("time"))
        when = fr.when(datetime.fromtimestamp(ns // 1_000_000_000, UTC)) if ns is not None else "?"
        doubt = (
            " [yellow](douteuse : un dossier manquait, était vide ou avait fondu)[/yellow]"
            if SUSPECT_TAG in (s.get("tags") or [])
            else ""
        )
        out.print(f"  {markup(s.get('short_id'))}  {when}  {markup(', '.join(s.get('paths', [])))}{doubt}")


@app.command("restore")
def restore(
    destination: Annotated[str, typer.Option("--destination", help="Destination où lire la sauvegarde.")],
    target: Annotated[Path, typer.Option("--vers", help="Dossier où restaurer (vide ou nouveau).")],
    snapshot: Annotated[
        str, typer.Option("--sauvegarde", help="Identifiant (défaut : la plus récente non douteuse).")
    ] = "latest",
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
