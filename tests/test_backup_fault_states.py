"""Every bad day of a backup, on real restic repositories: no green verdict, no exit code 0,
where the backup is not proven.

One pharmacy, one backup disk (a real filesystem mounted by the test, so that it can be
unplugged or filled), two folders (the LGO's database and documents). Each case starts from a
scenario, applies one fault, then runs what the pharmacy's monitoring runs — `backup drill`,
`backup run`, `backup status` — and compares with the outcome written below *from the
scenario*: what a truthful tool must say on that day. Two control cases (nothing wrong, disk put
away after a proven backup) show the same harness giving green where it is deserved.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backup_fixtures import Site, Template, build_site, cli, unmount_all

pytestmark = [
    pytest.mark.skipif(shutil.which("restic") is None, reason="restic not installed"),
    pytest.mark.root,
]

NOT_PASS = {"fail", "unknown", "warn", "needs_answer"}
RANK = {"not_applicable": 0, "pass": 1, "warn": 2, "needs_answer": 3, "unknown": 4, "fail": 5}
Cleanup = Callable[[], None]


@dataclass(frozen=True)
class Case:
    name: str
    setup: str  # "proven": run + drill passed yesterday; "run_only": one unverified run two days ago; "none"
    fault: Callable[[Site], Cleanup | None]
    drill_exit: int
    run_exit: int
    status_exit: int
    verdicts: dict[str, str]
    run_says: str  # a phrase the run's French output must contain
    disk_size: str = "64m"
    control: bool = False


# -- the faults -------------------------------------------------------------------------------
def empty_lgo(site: Site) -> None:
    """The LGO volume is no longer mounted: its mount point is an empty folder."""
    for path in site.lgo.rglob("*"):
        if path.is_file():
            path.unlink()


def move_lgo(site: Site) -> None:
    shutil.move(site.lgo, site.base / "lgo-deplace")


def shrink_lgo(site: Site) -> None:
    """21 of the 30 database files deleted: far more than the 50 % a plan tolerates."""
    for path in sorted((site.lgo / "base").iterdir())[:21]:
        path.unlink()


def delete_repository(site: Site) -> None:
    shutil.rmtree(site.repos["disque-1"])  # the disk stays plugged in


def corrupt_repository(site: Site) -> None:
    pack = max((p for p in (site.repos["disque-1"] / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o600)
    pack.write_bytes(bytes(data))


def lock_repository(site: Site) -> Cleanup:
    """A live operation holds the exclusive lock (`restic key passwd` waiting for its input)."""
    holder = subprocess.Popen(
        ["restic", "key", "passwd"],
        stdin=subprocess.PIPE,
        env=site.g.restic.env(site.dest()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    locks = site.repos["disque-1"] / "locks"
    for _ in range(500):
        if any(locks.iterdir()):
            break
        threading.Event().wait(0.02)

    def release() -> None:
        holder.kill()
        holder.wait()

    return release


def change_password(site: Site) -> None:
    """Someone with the password adds their own key and removes ours."""
    intruder = site.base / "intrus.pass"
    intruder.write_text("mot-de-passe-de-l-intrus\n", encoding="utf-8")
    assert site.restic("disque-1", "key", "add", "--new-password-file", str(intruder)).returncode == 0
    keys = json.loads(site.restic("disque-1", "key", "list", "--json").stdout)
    ours = next(k["id"] for k in keys if k["current"])
    assert site.restic("disque-1", "key", "remove", ours, password_file=intruder).returncode == 0


def delete_snapshot(site: Site) -> None:
    snapshot = site.g.records.runs("disque-1")[0].snapshot_id
    assert site.restic("disque-1", "forget", str(snapshot)).returncode == 0


def unplug(site: Site) -> None:
    site.unplug("disque-1")


def grow_beyond_the_disk(site: Site) -> None:
    """The LGO database grew beyond what the (2 MB) disk can hold."""
    (site.lgo / "base" / "grosse-table.dat").write_bytes(os.urandom(6 * 1024 * 1024))


def nothing(site: Site) -> None:
    return None


ALL_BUT = {"SAV-06": "needs_answer"}  # no online copy in the plan and nobody answered: the question waits

CASES = [
    # -- the folders to back up ----------------------------------------------------------------
    Case(
        "source vidée",
        "proven",
        empty_lgo,
        drill_exit=1,  # the comparison with the originals is impossible for the LGO
        run_exit=1,  # the LGO folder holds nothing: failure naming it
        status_exit=1,
        verdicts={"SAV-01": "fail", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="ne contient plus aucun fichier",
    ),
    Case(
        "source absente",
        "proven",
        move_lgo,
        drill_exit=1,
        run_exit=1,
        status_exit=1,
        verdicts={"SAV-01": "fail", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="est introuvable",
    ),
    Case(
        "source fondue",
        "proven",
        shrink_lgo,
        drill_exit=1,
        run_exit=1,
        status_exit=1,
        verdicts={"SAV-01": "fail", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="a fortement diminué",
    ),
    # -- the repository ------------------------------------------------------------------------
    Case(
        "dépôt effacé, disque branché",
        "proven",
        delete_repository,
        drill_exit=1,  # not "disk absent": the disk is mounted, its repository is gone
        run_exit=1,
        status_exit=1,
        verdicts={"SAV-01": "fail", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="a disparu",
    ),
    Case(
        "dépôt abîmé",
        "proven",
        corrupt_repository,
        drill_exit=1,
        run_exit=1,  # a backup may lean on the damaged data: made, but not counted
        status_exit=1,
        verdicts={"SAV-01": "fail", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="n'est plus fiable",
    ),
    Case(
        "dépôt verrouillé",
        "proven",
        lock_repository,
        drill_exit=1,
        run_exit=1,
        status_exit=1,
        # Yesterday's backup exists and was proven; today's could not be made: a warning, not a pass.
        verdicts={"SAV-01": "warn", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="verrouillé",
    ),
    Case(
        "mot de passe changé",
        "proven",
        change_password,
        drill_exit=1,
        run_exit=1,
        status_exit=1,
        verdicts={"SAV-01": "fail", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="Mot de passe refusé",
    ),
    Case(
        "sauvegarde supprimée du dépôt",
        "proven",
        delete_snapshot,
        drill_exit=1,
        run_exit=1,
        status_exit=1,
        verdicts={"SAV-01": "fail", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="a disparu",
    ),
    # -- the disk --------------------------------------------------------------------------------
    Case(
        "disque absent depuis une sauvegarde jamais vérifiée",
        "run_only",
        unplug,
        drill_exit=5,  # nothing verified
        run_exit=5,  # nothing saved
        status_exit=1,
        # The backup of two days ago is late; the disk does come and go, but holds no proven copy.
        verdicts={"SAV-01": "warn", "SAV-02": "fail", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="n'est pas branché",
    ),
    Case(
        "disque plein dès la première sauvegarde",
        "none",
        grow_beyond_the_disk,
        drill_exit=1,  # the repository holds no backup at all
        run_exit=1,
        status_exit=1,
        verdicts={"SAV-01": "fail", "SAV-02": "unknown", "SAV-03": "fail", "SAV-04": "unknown", "SAV-05": "fail"},
        run_says="est plein",
        disk_size="2m",
    ),
    # -- controls: the same harness gives green where it is deserved ----------------------------
    Case(
        "rien de cassé",
        "proven",
        nothing,
        drill_exit=0,
        run_exit=0,
        status_exit=1,  # one copy only: the 3-2-1 rule fails, truthfully
        verdicts={"SAV-01": "pass", "SAV-02": "unknown", "SAV-03": "pass", "SAV-04": "pass", "SAV-05": "fail"},
        run_says="réussie",
        control=True,
    ),
    Case(
        "disque rangé après une sauvegarde vérifiée",
        "proven",
        unplug,
        drill_exit=5,
        run_exit=5,
        status_exit=1,
        # Proven yesterday, now in the drawer: exactly the disconnected copy the guidance asks for.
        verdicts={"SAV-01": "pass", "SAV-02": "pass", "SAV-03": "pass", "SAV-04": "pass", "SAV-05": "fail"},
        run_says="n'est pas branché",
        control=True,
    ),
]


@pytest.fixture
def one_disk_site(
    tmp_path: Path, restic_templates: list[Template], restic_cache: Path
) -> Iterator[Callable[[str], Site]]:
    """Build the site of a case: one disk, on its own mounted filesystem of the case's size."""
    if os.geteuid() != 0:
        pytest.skip("mounting a test filesystem needs root")
    sites: list[Site] = []

    def build(disk_size: str) -> Site:
        sites.append(
            build_site(
                tmp_path, restic_templates, [("disque-1", "disk", "pharmacie")], mounted=True, disk_size=disk_size
            )
        )
        return sites[-1]

    try:
        yield build
    finally:
        for site in sites:
            unmount_all(list(site.mounts.values()))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_green_verdict_and_no_exit_0_without_proof(case: Case, one_disk_site: Callable[[str], Site]) -> None:
    site = one_disk_site(case.disk_size)
    if case.setup in ("proven", "run_only"):
        [run] = site.run()
        assert run.status == "success", run.message
        if case.setup == "proven":
            assert site.drill().status == "passed"
        site.age(20 if case.setup == "proven" else 50)  # that was yesterday (or two days ago)
    before = site.verdicts()
    cleanup = case.fault(site)
    try:
        drill, run_, status = cli("backup", "drill"), cli("backup", "run"), cli("backup", "status")
        after = site.verdicts()
    finally:
        if cleanup is not None:
            cleanup()
    assert (drill.code, run_.code) == (case.drill_exit, case.run_exit), (drill.text, run_.text)
    assert status.code == case.status_exit, status.text
    assert case.run_says in run_.text, run_.text
    assert after == {**case.verdicts, **ALL_BUT}, (after, run_.text, drill.text)
    assert "Traceback" not in drill.text + run_.text + status.text
    if not case.control:
        assert not {m for m, v in after.items() if v == "pass"}, after
        assert 0 not in (drill.code, run_.code, status.code)
        # Destroying or losing the backup never makes a verdict better than it was before.
        worse_or_equal = {m: RANK[after[m]] >= RANK[v] for m, v in before.items()}
        assert all(worse_or_equal.values()), (before, after)
