"""The sentinel's red banner on every dashboard page, until the alarm is acknowledged."""

from __future__ import annotations

from pathlib import Path

from officine.sentinel.records import EventLog, acknowledge, unacknowledged_alarms
from officine.store import Store
from web_helpers import signed_in


def test_an_alarm_shows_a_red_banner_on_every_page_until_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "officine.db"
    client = signed_in(db)
    assert "Alarme rançongiciel" not in client.get("/").text
    store = Store(f"sqlite:///{db}")
    # 1 Dec 2026 at 09:30:00 UTC is 10:30 in Paris (winter time): people read Paris time.
    EventLog(None, store).write(
        "alarm",
        pid=4242,
        paths=["/srv/lgo/a.pdf", "/srv/lgo/b.pdf"],
        indicators={"canary_modified": 1, "random_interior": 2},
        at=1796117400.0,
        processes=[{"pid": 4242, "cmdline": ["/tmp/<b>chiffreur</b>", "--tout"]}],
        suspended=True,
    )
    for page in ("/", "/postes", "/historique"):
        html = client.get(page).text
        assert "Alarme rançongiciel" in html, page
        assert "01/12/2026 à 10:30" in html and "fichier-leurre modifié (1)" in html
        assert "officine sentinel resume 4242" in html and 'href="/incident"' in html
        assert "&lt;b&gt;chiffreur" in html and "<b>chiffreur" not in html  # escaped, never markup
    [alarm] = unacknowledged_alarms(store)
    assert acknowledge(store, alarm.id, "marie")
    assert "Alarme rançongiciel" not in client.get("/").text
