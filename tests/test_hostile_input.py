"""Hostile files never hang, crash or inject (issue 11): each case as a person would meet it.

Every command runs in its own process under memory and time limits (tests/hostile.py), so a
regression fails here instead of exhausting the machine. The expected outcomes are written
from what the file holds: an include loop cannot be judged (unknown, never pass), an escape
sequence is shown and never obeyed, an impossible date is named with its line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import RootTree
from helpers import audit_files, audit_root, verdict
from hostile import dashboard_import, english_in, officine_bounded, unsafe_characters, with_file, write
from officine import snapshot
from officine.errors import UserError
from officine.host import LocalHost


@pytest.fixture
def debian(tree: RootTree) -> RootTree:
    tree.debian()
    return tree


@pytest.fixture
def base_doc(debian: RootTree) -> dict[str, Any]:
    """A real snapshot of a small Debian tree, as a document to alter."""
    return json.loads(snapshot.collect(LocalHost(debian.path)).dumps())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"OFFICINE_DATA_DIR": str(tmp_path / "data")}


PAM_BOMB = "@include common-password\n" * 14 + "password requisite pam_pwquality.so minlen=14\n"
SSHD_BOMB = "Include /etc/ssh/sshd_config\n" * 20 + "PermitRootLogin no\nPasswordAuthentication no\n"


# -- 1. include bombs ----------------------------------------------------------------------------


def test_pam_include_bomb_on_a_mounted_disk_is_unknown_never_pass(debian: RootTree) -> None:
    # 380 bytes that include themselves 14 times: 14^6 expansions before (67 s, 1.2 GB).
    debian.write("/etc/pam.d/common-password", PAM_BOMB)
    results = audit_root(debian.path)
    assert verdict(results, "MDP-01") == "unknown"
    assert "boucle" in results["MDP-01"].evidence[0].text


def test_pam_include_bomb_in_a_snapshot_and_in_the_dashboard(base_doc: dict[str, Any], tmp_path: Path) -> None:
    bomb = write(with_file(base_doc, "/etc/pam.d/common-password", PAM_BOMB), tmp_path / "bombe.json")
    assert verdict(audit_files(bomb), "MDP-01") == "unknown"
    imported = dashboard_import(bomb, tmp_path / "tableau.db")
    assert imported.returncode == 0, imported.stderr


def test_sshd_include_bomb_is_unknown_never_pass(debian: RootTree) -> None:
    debian.write("/etc/ssh/sshd_config", SSHD_BOMB)
    results = audit_root(debian.path)
    assert verdict(results, "POS-06") == "unknown"


def test_a_file_included_twice_is_read_once_and_still_judged(debian: RootTree) -> None:
    # Not a loop: login includes common-auth twice (through two files). Judged as PAM would.
    debian.write("/etc/pam.d/common-auth", "auth required pam_faillock.so preauth deny=5 unlock_time=900\n")
    debian.write("/etc/pam.d/auth-extra", "@include common-auth\n")
    debian.write("/etc/pam.d/system-auth", "@include common-auth\n@include auth-extra\n")
    debian.write(
        "/etc/pam.d/common-password",
        "@include pw-base\n@include pw-base\npassword requisite pam_pwquality.so minlen=14\n",
    )
    debian.write("/etc/pam.d/pw-base", "password [success=1 default=ignore] pam_unix.so obscure\n")
    results = audit_root(debian.path)
    assert verdict(results, "MDP-01") == "pass"
    assert verdict(results, "MDP-02") == "pass"


def test_sshd_includes_of_a_directory_still_apply(debian: RootTree) -> None:
    debian.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n")
    debian.write(
        "/etc/ssh/sshd_config.d/10-durci.conf",
        "PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n",
    )
    debian.write("/etc/ssh/sshd_config.d/20-encore.conf", "Include /etc/ssh/sshd_config.d/10-durci.conf\n")
    results = audit_root(debian.path)
    assert verdict(results, "POS-06") == "pass"  # first value wins: the included "no"


def test_pam_nesting_deeper_than_pam_accepts_is_unknown(debian: RootTree) -> None:
    for level in range(20):  # PAM refuses more than 16 levels: this stack never works
        debian.write(f"/etc/pam.d/niveau-{level}", f"@include niveau-{level + 1}\n")
    debian.write("/etc/pam.d/niveau-20", "password requisite pam_pwquality.so minlen=14\n")
    debian.write("/etc/pam.d/common-password", "@include niveau-0\n")
    results = audit_root(debian.path)
    assert verdict(results, "MDP-01") == "unknown"
    assert "niveaux" in results["MDP-01"].evidence[0].text


# -- 2. terminal injection -------------------------------------------------------------------------

ESCAPES = "\x1b]0;PIRATE\x07\x1b[2J\x1b[31m\x9b31m\u202egnp.exe"


def test_escapes_from_a_snapshot_are_shown_never_obeyed(
    base_doc: dict[str, Any], tmp_path: Path, env: dict[str, str]
) -> None:
    doc = with_file(
        base_doc, "/etc/os-release", f'PRETTY_NAME="Debian {ESCAPES} [bold]gras[/bold]"\nID=debian\nVERSION_ID=12\n'
    )
    doc["host"]["hostname"] = f"poste{ESCAPES}[/]"
    proc = officine_bounded("audit", "--from", str(write(doc, tmp_path / "s.json")), env=env)
    assert proc.returncode == 0, proc.stderr
    assert unsafe_characters(proc.stdout + proc.stderr) == set()
    # What was observed is still quoted, visibly.
    assert "poste\\x1b]0;PIRATE\\x07" in proc.stdout
    assert "\\u202egnp.exe" in proc.stdout
    assert "[bold]gras[/bold]" in proc.stdout  # markup printed as text, not applied
    as_json = officine_bounded("audit", "--from", str(tmp_path / "s.json"), "--json", "--sans-enregistrer", env=env)
    assert unsafe_characters(as_json.stdout) == set()
    assert json.loads(as_json.stdout)["hosts"][0]["hostname"] == doc["host"]["hostname"]


def test_escapes_from_a_snapshot_are_shown_on_the_dashboard_never_obeyed(
    base_doc: dict[str, Any], tmp_path: Path
) -> None:
    # A right-to-left override makes "poste\u202egnp.exe" read "posteexe.png" in a browser too.
    from web_helpers import post, signed_in

    base_doc["host"]["hostname"] = f"poste{ESCAPES}"
    client = signed_in(tmp_path / "tableau.db")
    content = write(base_doc, tmp_path / "s.json").read_bytes()
    imported = post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("s.json", content)})
    assert imported.status_code == 303, imported.text
    for page in ("/", "/postes", "/postes/1", "/historique", "/bilan"):
        html = client.get(page).text
        assert not {"\u202e", "\x1b", "\x07", "\x9b"} & set(html), page
        if page.startswith("/postes"):
            assert "poste\\x1b]0;PIRATE\\x07" in html and "\\u202egnp.exe" in html, page


def test_a_stored_hostname_with_markup_never_breaks_history(
    base_doc: dict[str, Any], tmp_path: Path, env: dict[str, str]
) -> None:
    base_doc["host"]["hostname"] = "poste[/bold] [red]x"
    stored = officine_bounded("audit", "--from", str(write(base_doc, tmp_path / "s.json")), "--bref", env=env)
    assert stored.returncode == 0, stored.stderr
    history = officine_bounded("history", env=env)
    assert history.returncode == 0, history.stderr
    assert "poste[/bold] [red]x" in history.stdout


def test_an_error_message_quoting_a_file_is_not_markup(tmp_path: Path, env: dict[str, str]) -> None:
    answers = tmp_path / "r.yaml"
    answers.write_text('answers:\n  "[/bold]\\e[2J": oui\n', encoding="utf-8")  # YAML \e: an ESC
    snap = tmp_path / "s.json"
    proc = officine_bounded("audit", "--from", str(snap), "--answers", str(answers), env=env)
    # The answers file is read first: refused in French, with the key shown and the escape not obeyed.
    assert proc.returncode == 2, proc.stderr
    assert unsafe_characters(proc.stderr) == set()
    assert "« [/bold]\\x1b[2J »" in proc.stderr


# -- 3. impossible dates ---------------------------------------------------------------------------


def test_impossible_date_in_answers_names_the_file_and_line(
    base_doc: dict[str, Any], tmp_path: Path, env: dict[str, str]
) -> None:
    answers = tmp_path / "reponses.yaml"
    answers.write_text("answered_by: Marie\nanswered_at: 2026-02-30\nanswers: {}\n", encoding="utf-8")
    proc = officine_bounded(
        "audit", "--from", str(write(base_doc, tmp_path / "s.json")), "--answers", str(answers), env=env
    )
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert str(answers) in message and "ligne 2" in message and "2026-02-30" in message
    assert english_in(message) == []
    assert not (tmp_path / "data").exists()  # nothing written


def test_impossible_date_in_the_backup_plan_and_contacts(tmp_path: Path) -> None:
    config = Path(os.environ["OFFICINE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "backup-plan.yaml").write_text(
        "version: 1\ndestinations:\n  - id: nuage\n    label: Hébergeur\n    kind: cloud\n    place: cloud\n"
        "    repository: s3:exemple/depot\n    password_file: /root/mdp\n"
        "    hds: {certified: true, expires: 2026-02-30}\n",
        encoding="utf-8",
    )
    plan = officine_bounded("backup", "plan", "show")
    assert plan.returncode == 2
    assert "ligne 9" in plan.stderr and "date impossible" in " ".join(plan.stderr.split())
    (config / "contacts.yaml").write_text("prestataire:\n  nom: Durand\n  depuis: 2026-02-30\n", encoding="utf-8")
    script = tmp_path / "script.yaml"
    script.write_text("steps: {}\n", encoding="utf-8")
    incident = officine_bounded("incident", "start", "--script", str(script), "--par", "Marie Martin, titulaire")
    # Under attack the reflexes go on; the broken contacts file is named with its line.
    assert incident.returncode == 0, incident.stderr
    said = " ".join(incident.stdout.split())
    assert "contacts.yaml" in said and "ligne 3" in said and "Les étapes suivent" in said


def test_a_contacts_file_of_aliases_is_refused_at_once(tmp_path: Path) -> None:
    config = Path(os.environ["OFFICINE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    lines.append("prestataire: {nom: *a9, telephone: '01'}")  # 9^10 names once expanded
    (config / "contacts.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    script = tmp_path / "script.yaml"
    script.write_text("steps: {}\n", encoding="utf-8")
    proc = officine_bounded(
        "incident", "start", "--script", str(script), "--par", "Marie Martin", memory_mb=512, cpu_s=20, wall_s=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "ancres" in proc.stdout


# -- 4. endless, blocking and deep inputs ----------------------------------------------------------


def test_a_device_as_snapshot_is_refused(env: dict[str, str]) -> None:
    proc = officine_bounded("audit", "--from", "/dev/zero", env=env, memory_mb=512, cpu_s=20, wall_s=60)
    assert proc.returncode == 2
    assert "pas un fichier ordinaire" in " ".join(proc.stderr.split())


def test_a_snapshot_larger_than_the_limit_is_refused_without_reading_it(tmp_path: Path, env: dict[str, str]) -> None:
    big = tmp_path / "gros.json"
    with big.open("wb") as fh:
        fh.truncate(snapshot.MAX_SNAPSHOT_BYTES + 1)  # sparse: nothing to read, only its size
    proc = officine_bounded("audit", "--from", str(big), env=env, memory_mb=512)
    assert proc.returncode == 2
    assert "trop gros" in proc.stderr


def test_a_fifo_in_a_mounted_tree_does_not_block(debian: RootTree) -> None:
    (debian.path / "etc/hostname").unlink()
    os.mkfifo(debian.path / "etc/hostname")
    os.mkfifo(debian.path / "etc/pam.d/common-password.fifo")
    debian.write("/etc/pam.d/common-password", "@include common-password.fifo\npassword required pam_unix.so\n")
    proc = officine_bounded("audit", "--root", str(debian.path), "--json", "--sans-enregistrer", wall_s=60)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["hosts"][0]["hostname"] in (None, "?")  # not read, not invented


@pytest.mark.parametrize("where", ["observation_extra", "observation_stat", "host", "fact_value"])
def test_json_nested_under_the_parser_limit_is_refused(
    base_doc: dict[str, Any], tmp_path: Path, env: dict[str, str], where: str
) -> None:
    deep: Any = "x"
    for _ in range(900):  # json.loads accepts it; every recursive walker after it did not
        deep = [deep]
    if where == "host":
        base_doc["host"]["extra"] = deep
    elif where == "fact_value":
        next(iter(base_doc["facts"].values()))["value"] = deep
    else:
        base_doc["observations"][0][where.removeprefix("observation_")] = {"a": deep}
    try:
        path = write(base_doc, tmp_path / "profond.json")
    except RecursionError:
        pytest.skip("cannot even seal it here")
    proc = officine_bounded("audit", "--from", str(path), env=env)
    assert proc.returncode == 2, proc.stdout[-500:] + proc.stderr
    assert "imbrication trop profonde" in " ".join(proc.stderr.split())
    imported = dashboard_import(path, tmp_path / "t.db")
    assert imported.returncode == 2 and "imbrication" in imported.stderr


# -- 5. versions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [True, 1.0, "1", 2, None])
def test_only_the_integer_1_is_schema_version_1(base_doc: dict[str, Any], tmp_path: Path, version: object) -> None:
    base_doc["schema_version"] = version
    path = write(base_doc, tmp_path / "v.json")
    with pytest.raises(UserError, match="version de format"):
        snapshot.load(path)


# -- 6. French refusals -------------------------------------------------------------------------------


def test_validation_refusals_name_file_field_and_expectation_in_french(
    base_doc: dict[str, Any], tmp_path: Path, env: dict[str, str]
) -> None:
    snap = write(base_doc, tmp_path / "s.json")
    answers = tmp_path / "r.yaml"
    answers.write_text("answered_by: Marie\nanswerz: {}\n", encoding="utf-8")
    proc = officine_bounded("audit", "--from", str(snap), "--answers", str(answers), env=env)
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and english_in(said) == []
    assert str(answers) in said and "« answerz »" in said and "champ inconnu" in said and "ligne 2" in said

    answers.write_text("exceptions:\n  - measure: MDP-01\n    justification: 42\n", encoding="utf-8")
    said = " ".join(officine_bounded("audit", "--from", str(snap), "--answers", str(answers), env=env).stderr.split())
    assert "exceptions › n° 1 › justification" in said and "texte attendu" in said and english_in(said) == []

    base_doc["observations"][0]["status"] = 7
    said = " ".join(
        officine_bounded("audit", "--from", str(write(base_doc, tmp_path / "t.json")), env=env).stderr.split()
    )
    assert "observations › n° 1 › status" in said and "une de ces valeurs attendue" in said
    assert english_in(said) == []


def test_unreadable_inputs_are_refused_in_french(tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path / "dossier.json"
    folder.mkdir()
    for args in (["audit", "--from", str(folder)], ["audit", "--from", str(tmp_path / "absent.json")]):
        proc = officine_bounded(*args, env=env)
        assert proc.returncode == 2 and english_in(proc.stderr) == [], proc.stderr
    latin1 = tmp_path / "r.yaml"
    latin1.write_bytes("answered_by: Hélène\n".encode("latin-1"))
    proc = officine_bounded("audit", "--from", str(folder), "--answers", str(latin1), env=env)
    assert proc.returncode == 2 and "UTF-8" in proc.stderr and english_in(proc.stderr) == []


@pytest.mark.parametrize(("files", "expected"), [(200, "pass"), (300, "unknown")])
def test_a_configuration_folder_with_thousands_of_files_is_unknown_never_half_read(
    debian: RootTree, files: int, expected: str
) -> None:
    # pwquality reads its .conf.d files in order, a later value overriding an earlier one: the
    # last file alone makes the length 14. Read whole (200 files), that is judged; beyond what a
    # real machine holds (300), reading a part would judge a length the machine does not have.
    debian.write("/etc/pam.d/common-password", "password requisite pam_pwquality.so\n")
    for i in range(files):
        debian.write(f"/etc/security/pwquality.conf.d/{i:04d}.conf", f"minlen = {14 if i == files - 1 else 6}\n")
    results = audit_root(debian.path)
    assert verdict(results, "MDP-01") == expected
    if expected == "unknown":
        assert "pwquality.conf.d contient 300 fichiers" in results["MDP-01"].evidence[0].text
