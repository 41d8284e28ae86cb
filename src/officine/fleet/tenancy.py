"""The fleet's database: its own schema (accounts, organisations, agents, alerts...) and one
schema per pharmacy, each holding the single-pharmacy store's tables. A pharmacy of the fleet is
judged by the same `Pharmacy` service object as on its own machine, over its own schema."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.services.knowledge import Knowledge, load_knowledge
from officine.services.pharmacy import Pharmacy
from officine.store import Store

ENV_FLEET_URL = "OFFICINE_FLEET_DATABASE_URL"
FLEET_SCHEMA = "fleet"
TENANT_PREFIX = "pharmacie_"
OPEN_TENANTS = 64  # pharmacy service objects kept per process (their memos are per audit)


def schema_of(pharmacy_id: int) -> str:
    """The schema of a pharmacy: from its database id only, never from anything a person typed."""
    return f"{TENANT_PREFIX}{int(pharmacy_id)}"


def fleet_url(url: str | None) -> str:
    url = url or os.environ.get(ENV_FLEET_URL)
    if not url:
        raise UserError(
            "Indiquez la base PostgreSQL du parc avec --db (ou la variable "
            f"{ENV_FLEET_URL}), par exemple postgresql+psycopg://officine@serveur/parc."
        )
    if not url.startswith(("postgresql:", "postgresql+")):
        raise UserError(
            "Le parc demande une base PostgreSQL (une adresse qui commence par postgresql+psycopg://) : "
            "chaque pharmacie y a son propre schéma. Le tableau de bord d'une seule pharmacie (officine serve) "
            "garde sa base SQLite."
        )
    return url


class Fleet:
    """The fleet's database and the pharmacies in it, for one server process."""

    def __init__(self, url: str | None = None, knowledge: Knowledge | None = None) -> None:
        self.url = fleet_url(url)
        self.home = Store(self.url, schema=FLEET_SCHEMA, fleet_home=True)
        self.engine = self.home.engine
        self.knowledge = knowledge or load_knowledge()
        self._tenants: OrderedDict[int, Pharmacy] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session

    def tenant_store(self, pharmacy_id: int) -> Store:
        """The pharmacy's own schema (created and migrated when first opened)."""
        return Store(self.url, schema=schema_of(pharmacy_id), engine=self.home.base_engine)

    def pharmacy(self, pharmacy_id: int) -> Pharmacy:
        """The pharmacy's service object, judged with the facts its agents sent."""
        from officine.fleet.site import FleetSite  # noqa: PLC0415 - it needs this module

        with self._lock:
            found = self._tenants.get(pharmacy_id)
            if found is not None:
                self._tenants.move_to_end(pharmacy_id)
                return found
        pharmacy = Pharmacy(self.tenant_store(pharmacy_id), self.knowledge, site=FleetSite(self.engine, pharmacy_id))
        with self._lock:
            self._tenants[pharmacy_id] = pharmacy
            while len(self._tenants) > OPEN_TENANTS:
                self._tenants.popitem(last=False)
        return pharmacy
