"""Audits of test root trees (`--root`): each test creates the state it judges."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import RootTree
from helpers import audit_root, evidence, values, verdict


@pytest.fixture
def debian(tree: RootTree) -> RootTree:
    tree.debian()
    return tree


def test_weak_password_policy_fails(debian: RootTree) -> None:
    debian.write(
        "/etc/pam.d/common-password",
        "password requisite pam_pwquality.so retry=3\npassword [success=1 default=ignore] pam_unix.so obscure\n",
    )
    debian.write("/etc/security/pwquality.conf", "# weak\nminlen = 8\n")
    results = audit_root(debian.path)
    assert verdict(results, "MDP-01") == "fail"
    assert values(results, "MDP-01")["length"] == 8
    assert "8 caractères" in evidence(results, "MDP-01")
    assert verdict(results, "MDP-02") == "fail"  # no faillock in common-auth


def test_positive_credits_shorten_the_effective_minimum(debian: RootTree) -> None:
    debian.write(
        "/etc/pam.d/common-password",
        "password requisite pam_pwquality.so minlen=14 dcredit=1 "
        "ucredit=1\npassword [success=1 default=ignore] pam_unix.so obscure\n",
    )
    results = audit_root(debian.path)
    # 14 minus two credits: a 12-character password with a digit and a capital is accepted.
    assert values(results, "MDP-01")["length"] == 12
    assert verdict(results, "MDP-01") == "pass"


def test_strong_policy_with_lockout_passes(debian: RootTree) -> None:
    debian.write(
        "/etc/pam.d/common-password",
        "password requisite pam_pwquality.so retry=3\npassword [success=1 default=ignore] pam_unix.so obscure\n",
    )
    debian.write("/etc/security/pwquality.conf.d/50-officine.conf", "minlen = 14\n")
    debian.write(
        "/etc/pam.d/common-auth",
        "auth required pam_faillock.so preauth\n"
        "auth [success=1 default=ignore] pam_unix.so\nauth [default=die] pam_faillock.so authfail\n",
    )
    debian.write("/etc/security/faillock.conf", "deny = 5\nunlock_time = 900\n")
    results = audit_root(debian.path)
    assert verdict(results, "MDP-01") == "pass"
    assert verdict(results, "MDP-02") == "pass"
    assert values(results, "MDP-02") == {"deny": 5, "unlock_time_s": 900, "module": "pam_faillock.so"}


def test_lockout_disabled_by_deny_zero(debian: RootTree) -> None:
    debian.write("/etc/pam.d/common-auth", "auth required pam_faillock.so preauth deny=0\n")
    assert verdict(audit_root(debian.path), "MDP-02") == "fail"


def test_forced_expiry_is_flagged(debian: RootTree) -> None:
    debian.write("/etc/login.defs", "UID_MIN 1000\nPASS_MAX_DAYS 90\n")
    results = audit_root(debian.path)
    assert verdict(results, "MDP-06") == "warn"
    assert "90 jours" in evidence(results, "MDP-06")


def test_empty_password_is_found_and_hashes_never_recorded(debian: RootTree, tmp_path: Path) -> None:
    debian.write("/etc/shadow", "root:$y$j9T$secrethash$zz:19000::::::\nmarie::19000::::::\npaul:!:19000::::::\n")
    from officine import snapshot
    from officine.host import LocalHost

    snap = snapshot.collect(LocalHost(debian.path))
    assert "secrethash" not in snap.dumps()
    results = audit_root(debian.path)
    assert verdict(results, "MDP-03") == "fail"
    assert values(results, "MDP-03")["accounts"] == "marie"


def test_autologin_and_extra_root(debian: RootTree) -> None:
    debian.packages("base-files", "gdm3")
    debian.write("/etc/gdm3/daemon.conf", "[daemon]\nAutomaticLoginEnable = true\nAutomaticLogin = marie\n")
    debian.write(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nmarie:x:1000:1000:Marie:/home/marie:/bin/bash\n",
    )
    results = audit_root(debian.path)
    assert verdict(results, "ACC-01") == "fail"
    assert values(results, "ACC-01")["user"] == "marie"
    assert verdict(results, "ACC-02") == "fail"
    assert "toor" in evidence(results, "ACC-02")


def test_admin_accounts(debian: RootTree) -> None:
    results = audit_root(debian.path)
    # marie is in sudo, paul is not: a warning naming both.
    assert verdict(results, "ACC-02") == "warn"
    assert values(results, "ACC-02") == {"account": "marie", "others": "paul"}
    debian.write("/etc/group", "sudo:x:27:marie,paul\n")
    assert verdict(audit_root(debian.path), "ACC-02") == "fail"


def test_old_debian_is_end_of_life(tree: RootTree) -> None:
    tree.debian("10", "buster")
    results = audit_root(tree.path)
    assert verdict(results, "MAJ-01") == "fail"
    assert "Debian GNU/Linux 10" in evidence(results, "MAJ-01")


def test_unknown_distribution_is_unknown_not_pass(tree: RootTree) -> None:
    tree.debian()
    tree.write("/etc/os-release", 'ID=officinux\nVERSION_ID="1"\nPRETTY_NAME="Officinux 1"\n')
    assert verdict(audit_root(tree.path), "MAJ-01") == "unknown"


def _clamav_header(date: str) -> str:
    return f"ClamAV-VDB:{date}:27000:2000000:90:abcdef:sig:builder:1700000000".ljust(512)


def test_clamav_old_signatures_fail(debian: RootTree) -> None:
    debian.packages("base-files", "clamav", "clamav-freshclam")
    debian.write("/var/lib/clamav/daily.cld", _clamav_header("14 Nov 2023 09:32 +0000"))
    results = audit_root(debian.path)
    # On a mounted disk nothing runs: the age alone already fails it.
    assert verdict(results, "POS-01") == "fail"
    assert values(results, "POS-01")["product"] == "ClamAV"
    assert values(results, "POS-01")["days"] > 365


def test_no_antivirus_fails(debian: RootTree) -> None:
    results = audit_root(debian.path)
    assert verdict(results, "POS-01") == "fail"
    assert "Aucun antivirus" in evidence(results, "POS-01")


def test_ssh_root_login_with_password(debian: RootTree) -> None:
    debian.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n")
    debian.write("/etc/ssh/sshd_config.d/10-local.conf", "PermitRootLogin yes\nPasswordAuthentication yes\n")
    results = audit_root(debian.path)
    # sshd keeps the first value it reads: the included file wins over the later line.
    assert verdict(results, "POS-06") == "fail"
    debian.write("/etc/ssh/sshd_config.d/10-local.conf", "PasswordAuthentication no\nKbdInteractiveAuthentication no\n")
    results = audit_root(debian.path)
    assert verdict(results, "POS-06") == "pass"


def test_ssh_match_block_does_not_change_global_value(debian: RootTree) -> None:
    debian.write(
        "/etc/ssh/sshd_config",
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nMatch User backup\n  PasswordAuthentication yes\n",
    )
    assert verdict(audit_root(debian.path), "POS-06") == "pass"


def test_usb_storage_blocked(debian: RootTree) -> None:
    debian.write("/etc/modprobe.d/officine.conf", "install usb-storage /bin/false\n")
    results = audit_root(debian.path)
    assert verdict(results, "AMO-01") == "pass"
    assert values(results, "AMO-01") == {"mechanism": "install"}


def test_usb_allowed_needs_an_answer(debian: RootTree, tmp_path: Path) -> None:
    results = audit_root(debian.path)
    assert verdict(results, "AMO-01") == "needs_answer"
    answers = tmp_path / "reponses.yaml"
    answers.write_text("answers:\n  AMO-01.q1: ne_sait_pas\n", encoding="utf-8")
    assert verdict(audit_root(debian.path, answers), "AMO-01") == "fail"


def test_gnome_lock_locked_to_never(debian: RootTree) -> None:
    debian.packages("base-files", "gnome-shell")
    debian.gnome_schemas()
    debian.write("/etc/dconf/profile/user", "user-db:user\nsystem-db:local\n")
    debian.write(
        "/etc/dconf/db/local.d/00-officine",
        "[org/gnome/desktop/session]\nidle-delay=uint32 0\n"
        "[org/gnome/desktop/screensaver]\nlock-enabled=true\nlock-delay=uint32 0\n",
    )
    debian.write(
        "/etc/dconf/db/local.d/locks/00-officine",
        "/org/gnome/desktop/session/idle-delay\n"
        "/org/gnome/desktop/screensaver/lock-enabled\n/org/gnome/desktop/screensaver/lock-delay\n",
    )
    results = audit_root(debian.path)
    assert verdict(results, "VER-01") == "fail"
    assert "jamais" in evidence(results, "VER-01")


def test_gnome_lock_imposed_at_ten_minutes_passes(debian: RootTree) -> None:
    debian.packages("base-files", "gnome-shell")
    debian.gnome_schemas()
    debian.write("/etc/dconf/profile/user", "user-db:user\nsystem-db:local\n")
    debian.write(
        "/etc/dconf/db/local.d/00-officine",
        "[org/gnome/desktop/session]\nidle-delay=uint32 600\n"
        "[org/gnome/desktop/screensaver]\nlock-enabled=true\nlock-delay=uint32 0\n",
    )
    debian.write(
        "/etc/dconf/db/local.d/locks/00-officine",
        "/org/gnome/desktop/session/idle-delay\n"
        "/org/gnome/desktop/screensaver/lock-enabled\n/org/gnome/desktop/screensaver/lock-delay\n",
    )
    results = audit_root(debian.path)
    assert verdict(results, "VER-01") == "pass"
    assert values(results, "VER-01")["delay"] == "10 min"


def test_gnome_lock_unlocked_users_are_unknown_on_a_mounted_disk(debian: RootTree) -> None:
    debian.packages("base-files", "gnome-shell")
    debian.gnome_schemas()
    results = audit_root(debian.path)
    # Users may have changed their own settings; those live in a database only dconf reads.
    assert verdict(results, "VER-01") == "unknown"


def test_kde_lock_from_user_file(debian: RootTree) -> None:
    debian.packages("base-files", "plasma-workspace")
    debian.write("/home/marie/.config/kscreenlockerrc", "[Daemon]\nTimeout=45\n")
    results = audit_root(debian.path)
    assert verdict(results, "VER-01") == "fail"
    assert values(results, "VER-01")["session"] == "marie"


def test_server_without_desktop_is_not_applicable(debian: RootTree) -> None:
    results = audit_root(debian.path)
    assert verdict(results, "VER-01") == "not_applicable"
    assert verdict(results, "POS-04") == "not_applicable"


def test_live_only_facts_are_unknown_on_a_mounted_disk(debian: RootTree) -> None:
    results = audit_root(debian.path)
    for measure in ("POS-02", "POS-03", "POS-05", "POS-07", "MAJ-02"):
        assert verdict(results, measure) in ("unknown", "fail"), measure
    assert verdict(results, "POS-05") == "unknown"
    assert "système en marche" in evidence(results, "POS-05")


def test_ufw_configuration_is_read_on_a_mounted_disk(debian: RootTree) -> None:
    debian.packages("base-files", "ufw")
    debian.write("/etc/ufw/ufw.conf", "ENABLED=yes\n")
    debian.write("/etc/default/ufw", 'DEFAULT_INPUT_POLICY="DROP"\n')
    results = audit_root(debian.path)
    assert verdict(results, "POS-02") == "pass"
    assert "réglage enregistré" in evidence(results, "POS-02")
    debian.write("/etc/default/ufw", 'DEFAULT_INPUT_POLICY="ACCEPT"\n')
    assert verdict(audit_root(debian.path), "POS-02") == "fail"


def test_absolute_symlinks_stay_inside_the_root(debian: RootTree) -> None:
    (debian.path / "etc/os-release").unlink()
    debian.write("/usr/lib/os-release", 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12 lié"\n')
    (debian.path / "etc/os-release").symlink_to("/usr/lib/os-release")
    assert "Debian 12 lié" in evidence(audit_root(debian.path), "MAJ-01")


def test_ssh_names_every_problem_with_its_file_and_line(debian: RootTree) -> None:
    """Each weakness is its own finding: fixing the first one must not hide the others."""
    debian.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitEmptyPasswords yes\n")
    debian.write(
        "/etc/ssh/sshd_config.d/50-local.conf",
        "# local changes\nPermitRootLogin yes\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n",
    )
    results = audit_root(debian.path)
    assert verdict(results, "POS-06") == "fail"
    found = [(e.verdict.value, e.reason, e.item) for e in results["POS-06"].evidence if e.source == "machine"]
    assert found == [
        ("fail", "empty_passwords_allowed", "/etc/ssh/sshd_config:2"),
        ("fail", "root_password", "/etc/ssh/sshd_config.d/50-local.conf:2"),
        ("warn", "password_auth", "/etc/ssh/sshd_config.d/50-local.conf:3"),
    ]
    text = evidence(results, "POS-06")
    assert "PermitEmptyPasswords yes, /etc/ssh/sshd_config:2" in text
    assert "PermitRootLogin yes, /etc/ssh/sshd_config.d/50-local.conf:2" in text


def test_ssh_default_password_authentication_is_named_as_the_default(debian: RootTree) -> None:
    # ChallengeResponseAuthentication is the older name of KbdInteractiveAuthentication (Debian 11).
    debian.write("/etc/ssh/sshd_config", "ChallengeResponseAuthentication no\nUsePAM yes\n")
    results = audit_root(debian.path)
    assert verdict(results, "POS-06") == "warn"
    assert [e.reason for e in results["POS-06"].evidence] == ["password_auth"]
    assert "valeur par défaut d'OpenSSH" in evidence(results, "POS-06")


def test_automatic_updates_off_is_said_when_the_patch_level_cannot_be_seen(debian: RootTree) -> None:
    """On a mounted disk apt cannot run: the pending list is unknown, but updates turned off is a
    finding on its own."""
    debian.packages("base-files", "unattended-upgrades")
    debian.write("/etc/apt/apt.conf.d/20auto-upgrades", 'APT::Periodic::Unattended-Upgrade "0";\n')
    debian.write("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", "")
    results = audit_root(debian.path)
    reasons = {e.reason: e.verdict.value for e in results["MAJ-02"].evidence}
    assert reasons["automatic_off"] == "warn"
    assert "APT::Periodic::Unattended-Upgrade = 0" in evidence(results, "MAJ-02")
    assert reasons["fact_unknown"] == "unknown"  # apt list --upgradable needs a running system
    assert verdict(results, "MAJ-02") == "unknown"


def test_package_lists_without_a_stamp_are_dated_by_their_own_files(debian: RootTree) -> None:
    import os
    import time

    index = debian.write("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", "")
    old = time.time() - 40.5 * 86400
    os.utime(index, (old, old))
    results = audit_root(debian.path)
    assert verdict(results, "MAJ-02") == "fail"
    assert "depuis 40 jours" in evidence(results, "MAJ-02")
    # unattended-upgrades is not installed: said beside the stale lists.
    assert "unattended-upgrades absent" in evidence(results, "MAJ-02")


def test_every_account_with_an_empty_password_is_named(debian: RootTree) -> None:
    debian.write("/etc/shadow", "root:*:19000::::::\nmarie::19000::::::\npaul::19000::::::\n")
    results = audit_root(debian.path)
    assert verdict(results, "MDP-03") == "fail"
    assert [e.item for e in results["MDP-03"].evidence if e.source == "machine"] == ["marie", "paul"]
