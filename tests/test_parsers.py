"""Parsers of raw observations: known samples, and property tests that nothing crashes."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officine.collectors.linux.encryption import map_mounts
from officine.collectors.linux.firewall import summarise_nft
from officine.collectors.linux.gnome import schema_default
from officine.collectors.linux.password_policy import lockout, min_length
from officine.host.base import redact_length, redact_shadow
from officine.parsers import ParseError
from officine.parsers.accounts import parse_group, parse_passwd, parse_shadow_password_states
from officine.parsers.apt import parse_apt_conf, parse_apt_upgradable, parse_dpkg_status
from officine.parsers.misc import (
    parse_clamav_header,
    parse_json,
    parse_key_value_lines,
    parse_modprobe,
    parse_mounts,
    split_nmcli_terse,
)
from officine.parsers.net import parse_proc_net
from officine.parsers.pam import parse_pam
from officine.parsers.ssh import parse_sshd_config_lines, parse_sshd_effective
from officine.parsers.text import parse_env_file, parse_gvariant_scalar, parse_keyfile, parse_space_config

TEXT_PARSERS = [
    parse_env_file,
    parse_space_config,
    parse_keyfile,
    parse_passwd,
    parse_group,
    parse_shadow_password_states,
    parse_apt_conf,
    parse_apt_upgradable,
    parse_dpkg_status,
    parse_key_value_lines,
    parse_modprobe,
    parse_mounts,
    split_nmcli_terse,
    parse_pam,
    parse_sshd_config_lines,
    parse_sshd_effective,
    redact_shadow,
    redact_length,
    lambda t: parse_proc_net(t, "tcp"),
    lambda t: parse_proc_net(t, "udp"),
]
RAISING_PARSERS = [
    parse_clamav_header,
    parse_gvariant_scalar,
    parse_json,
    lambda t: schema_default(t, "idle-delay"),
]

odd_text = st.one_of(
    st.text(),
    st.text(alphabet="=:#[]{};\"' \t\n/\\-_.aAzZ019é"),
    st.binary().map(lambda b: b.decode("latin-1")),
)


@pytest.mark.parametrize("parser", TEXT_PARSERS)
@given(text=odd_text)
@settings(max_examples=150, deadline=None)
def test_text_parsers_never_crash(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    parser(text)


@pytest.mark.parametrize("parser", RAISING_PARSERS)
@given(text=odd_text)
@settings(max_examples=150, deadline=None)
def test_strict_parsers_raise_only_parse_error(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(ParseError):
        parser(text)


@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "nftables",
                        "chain",
                        "rule",
                        "hook",
                        "policy",
                        "family",
                        "expr",
                        "blockdevices",
                        "children",
                        "type",
                        "mountpoint",
                        "name",
                    ]
                ),
                children,
                max_size=5,
            )
        ),
        max_leaves=30,
    )
)
@settings(max_examples=300, deadline=None)
def test_structured_summaries_never_crash(data: object) -> None:
    for summarise in (summarise_nft, map_mounts):
        with contextlib.suppress(ParseError):
            summarise(data)


@given(text=st.text())
def test_truncated_real_samples_never_crash(text: str) -> None:
    for sample in (PROC_NET_TCP, APT_LIST, SSHD_T, DPKG):
        for cut in (0, len(sample) // 3, len(sample) // 2, len(sample) - 1):
            parse_proc_net(sample[:cut] + text, "tcp")
            parse_apt_upgradable(sample[:cut] + text)
            parse_sshd_effective(sample[:cut] + text)
            parse_dpkg_status(sample[:cut] + text)


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   109        0 26104 1 0
   1: 00000000:0015 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0
   2: 0100007F:0015 0100007F:A2B4 01 00000000:00000000 00:00000000 00000000     0        0 31338 1 0
"""
PROC_NET_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:01BD 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1
   1: 00000000000000000000000001000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1
   2: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4244 1
"""


def test_proc_net_decodes_addresses_and_listen_state() -> None:
    rows = parse_proc_net(PROC_NET_TCP, "tcp")
    assert [(r.address, r.port, r.loopback_only) for r in rows] == [
        ("127.0.0.1", 3306, True),
        ("0.0.0.0", 21, False),
    ]
    rows6 = parse_proc_net(PROC_NET_TCP6, "tcp")
    assert [(r.address, r.port, r.loopback_only) for r in rows6] == [
        ("::", 445, False),
        ("::1", 5432, True),
        ("127.0.0.1", 80, True),
    ]


APT_LIST = """\
Listing...
libssl3/oldstable-security 3.0.17-1~deb12u3 amd64 [upgradable from: 3.0.15-1~deb12u1]
tzdata/oldstable-updates,oldstable 2025b-0+deb12u1 all [upgradable from: 2024a-0+deb12u1]
openssh-client/bookworm-security,bookworm 1:9.2p1-2+deb12u7 amd64 [upgradable from: 1:9.2p1-2+deb12u5]
"""


def test_apt_upgradable_security_origin() -> None:
    rows = parse_apt_upgradable(APT_LIST)
    assert [(r.package, r.security) for r in rows] == [
        ("libssl3", True),
        ("tzdata", False),
        ("openssh-client", True),
    ]


def test_apt_conf_flat_and_nested_forms() -> None:
    conf = parse_apt_conf(
        '// comment\nAPT::Periodic::Update-Package-Lists "1";\n'
        'APT { Periodic { Unattended-Upgrade "0"; }; };\n'
        '/* block\n comment */ Acquire::http::Proxy "http://x//y";\n#clear Foo;\n'
    )
    assert conf == {
        "apt::periodic::update-package-lists": "1",
        "apt::periodic::unattended-upgrade": "0",
        "acquire::http::proxy": "http://x//y",
    }


def test_dpkg_status_only_installed() -> None:
    assert parse_dpkg_status(DPKG) == {"clamav": "1.0.7", "ufw": "0.36.2"}


DPKG = """\
Package: clamav
Status: install ok installed
Version: 1.0.7

Package: keepassxc
Status: deinstall ok config-files
Version: 2.7.4

Package: ufw
Status: install ok installed
Priority: optional
Version: 0.36.2
"""

SSHD_T = "port 22\npermitrootlogin without-password\npasswordauthentication yes\n"


def test_sshd_effective_and_files() -> None:
    assert parse_sshd_effective(SSHD_T)["permitrootlogin"] == "without-password"
    assert parse_sshd_config_lines('PermitRootLogin=no\n# x\nBanner "/etc/issue net"\n') == [
        ("permitrootlogin", "no"),
        ("banner", "/etc/issue net"),
    ]


def test_clamav_header_build_time() -> None:
    header = parse_clamav_header("ClamAV-VDB:28 Nov 2026 08:25 -0500:27470:2070000:90:x:y:z:1")
    assert header.built.isoformat() == "2026-11-28T13:25:00+00:00"
    assert header.version == 27470
    with pytest.raises(ParseError):
        parse_clamav_header("ClamAV-VDB:31 Foo 2026 08:25 +0000:1:2")


def test_pam_stack_min_length_and_lockout() -> None:
    lines = parse_pam(
        "password requisite pam_pwquality.so retry=3 minlen=10 \\\n  ocredit=2\n"
        "password [success=1 default=ignore] pam_unix.so obscure minlen=12\n"
        "auth required pam_faillock.so preauth silent\n"
    )
    assert min_length(lines, {})["value"] == 12  # pam_unix is stricter than pwquality's 10-2
    assert lockout(lines, {"deny": "4"}) == {
        "enabled": True,
        "module": "pam_faillock.so",
        "deny": 4,
        "unlock_time_s": 600,
    }


def test_gvariant_and_keyfile() -> None:
    assert parse_gvariant_scalar("uint32 300") == 300
    assert parse_gvariant_scalar("true") is True
    assert parse_gvariant_scalar("'never'") == "never"
    assert parse_keyfile("[a/b]\nk=v\n[c]\n x = y \n") == {"a/b": {"k": "v"}, "c": {"x": "y"}}


def test_nmcli_terse_escapes() -> None:
    assert split_nmcli_terse(r"yes:Pharma\:Invités:WPA2:pair_ccmp") == [
        "yes",
        "Pharma:Invités",
        "WPA2",
        "pair_ccmp",
    ]


def test_redactions_keep_no_secret() -> None:
    assert redact_length("motdepassewifi\n") == "<secret length=14>"
    assert redact_shadow("root:$6$salt$hash:1::\nbob::1::\nsvc:!*:1::\n") == "root:<redacted>\nbob:\nsvc:!\n"


def test_nft_summary_requires_both_families_or_inet() -> None:
    chain = {
        "chain": {
            "family": "ip",
            "table": "f",
            "name": "in",
            "type": "filter",
            "hook": "input",
            "prio": 0,
            "policy": "drop",
        }
    }
    only_v4 = {"nftables": [chain]}
    assert summarise_nft(only_v4)["default_inbound"] == "accept"
    both = {"nftables": [chain, {"chain": {**chain["chain"], "family": "ip6"}}]}
    assert summarise_nft(both)["default_inbound"] == "drop"
    accept_then_drop = {
        "nftables": [
            {"chain": {**chain["chain"], "family": "inet", "policy": "accept"}},
            {
                "rule": {
                    "family": "inet",
                    "table": "f",
                    "chain": "in",
                    "expr": [{"counter": None}, {"drop": None}],
                }
            },
        ]
    }
    assert summarise_nft(accept_then_drop)["default_inbound"] == "drop"


def test_lsblk_crypt_ancestor() -> None:
    tree = json.loads(
        '{"blockdevices": [{"name": "nvme0n1", "type": "disk", "fstype": null, '
        '"mountpoint": null, "children": [{"name": "nvme0n1p3", "type": "part", '
        '"fstype": "crypto_LUKS", "mountpoint": null, "children": [{"name": "root", '
        '"type": "crypt", "fstype": "ext4", "mountpoint": "/"}]}, {"name": "nvme0n1p1", '
        '"type": "part", "fstype": "vfat", "mountpoint": "/boot/efi"}]}]}'
    )
    mapped = map_mounts(tree)
    assert mapped["/"]["encrypted"] is True and mapped["/"]["scheme"] == "LUKS"
    assert mapped["/boot/efi"]["encrypted"] is False
