"""The catalogue: valid, consistent with the checks and messages, broken ones named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from officine.catalogue.loader import CatalogueError, load_catalogue, load_messages
from officine.checks import load_checks
from officine.services.audit import load_knowledge, validate_consistency

CATALOGUE = Path(__file__).parents[1] / "src/officine/catalogue/data/catalogue.yaml"
GUIDANCE_PRACTICES = {"SAV", "MDP", "ACC", "MAJ", "AMO", "WIFI", "CPS", "RGPD", "MSS", "CTR", "DES", "INC"}


def test_catalogue_covers_the_guidance() -> None:
    k = load_knowledge()
    assert {p.id for p in k.catalogue.practices} == GUIDANCE_PRACTICES
    measures = [m for p in k.catalogue.practices for m in p.measures]
    assert len(measures) >= 45
    for m in measures:
        assert m.why and m.action and m.sources, m.id
        for q in m.questions:
            assert any(c.value == "ne_sait_pas" for c in q.choices), q.id


def test_every_check_reason_has_french_text() -> None:
    messages, checks = load_messages(), load_checks()
    for mid, spec in checks.items():
        for reason in spec.reasons:
            assert reason in messages.measures[mid], (mid, reason)


def _broken(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_broken_catalogue_names_measure_and_field(tmp_path: Path) -> None:
    def bad_severity(data: dict) -> None:  # type: ignore[type-arg]
        data["practices"][1]["measures"][0]["severity"] = "énorme"

    with pytest.raises(CatalogueError, match=r"mesure MDP-01, champ severity"):
        load_catalogue.__wrapped__(_broken(tmp_path, bad_severity))


def test_duplicate_and_unknown_source_are_refused(tmp_path: Path) -> None:
    def duplicate(data: dict) -> None:  # type: ignore[type-arg]
        data["practices"][0]["measures"].append(data["practices"][0]["measures"][0])

    with pytest.raises(CatalogueError, match="SAV-01 : identifiant en double"):
        load_catalogue.__wrapped__(_broken(tmp_path, duplicate))

    def unknown_source(data: dict) -> None:  # type: ignore[type-arg]
        data["practices"][0]["measures"][1]["sources"] = [{"ref": "NOPE"}]

    with pytest.raises(CatalogueError, match="SAV-02 : source inconnue"):
        load_catalogue.__wrapped__(_broken(tmp_path, unknown_source))


def test_automatic_measure_without_check_is_refused(tmp_path: Path) -> None:
    def orphan(data: dict) -> None:  # type: ignore[type-arg]
        m = next(m for p in data["practices"] for m in p["measures"] if m["id"] == "MSS-01")
        m["verification"], m["platforms"], m["questions"] = "automatic", ["linux"], []

    catalogue = load_catalogue.__wrapped__(_broken(tmp_path, orphan))
    with pytest.raises(CatalogueError, match="mesure MSS-01, champ verification"):
        validate_consistency(catalogue, load_messages(), load_checks())


def test_missing_message_is_refused(tmp_path: Path) -> None:
    from dataclasses import replace

    messages = load_messages()
    broken = replace(messages, measures={**messages.measures, "POS-02": {}})
    with pytest.raises(CatalogueError, match="POS-02, champ inbound_blocked"):
        validate_consistency(load_catalogue(), broken, load_checks())


def test_catalogue_doc_is_current() -> None:
    from officine.services.catalogue import catalogue_markdown

    doc = Path(__file__).parents[1] / "docs/catalogue.md"
    assert doc.read_text(encoding="utf-8") == catalogue_markdown(), "run: officine catalogue --markdown"
