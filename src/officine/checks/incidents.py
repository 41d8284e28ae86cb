"""The incident journal (INC-02): judged once for the site, from officine-cyber's own journal."""

from __future__ import annotations

from officine.catalogue.model import Verdict
from officine.checks.base import COMBINED_RANK, CheckContext, Outcome, check, fail
from officine.facts import FactStatus


@check("INC-02", reasons=("journal_kept", "journal_altered", "no_incident_yet"), scope="site")
def incident_journal(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("incident.journal")
    journal = fact.value if fact is not None and fact.status is FactStatus.observed else None
    if journal and journal["altered"]:
        first = journal["altered"][0]
        return fail("journal_altered", incident=first["incident"], problem=first["problem"])
    if not journal or not journal["incidents"]:
        decided = ctx.answer_or_needs()
        return Outcome(decided.verdict, "no_incident_yet", decided.values, observed=Verdict.not_applicable)
    # Incidents are noted, with their dates: that is the practice. An answer may still say it
    # is not done every time; the worse of the two then counts.
    kept = Outcome(Verdict.passed, "journal_kept", {"count": journal["incidents"], "last": journal["last_opened"]})
    answered = ctx.answer()
    if answered is None or COMBINED_RANK[answered.verdict] <= COMBINED_RANK[Verdict.passed]:
        return kept
    return Outcome(answered.verdict, kept.reason, kept.values, observed=Verdict.passed)
