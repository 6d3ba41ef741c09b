"""The plan's SLA escalation ladder, running beside the on-call ladder.

`{at: 75% response, notify: support_manager}` sends an SMS to everyone with that role when
75% of the response target has run on the target's own clock (the SLA engine's
`SlaEngine.escalations_due` decides when). Each step fires once per incident: the page rows are the
record, under the outbox's unique key. A response step no longer fires once the incident is
acknowledged, a resolution step once it is resolved. A pause of the SLA clock stops these
clocks too (`uptimeguard.incidents.pausing`): a step falls due that much later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from uptimeguard.config.models import Plan
from uptimeguard.incidents.pausing import as_pauses
from uptimeguard.paging import ladder, messages, timeline
from uptimeguard.paging.models import PENDING, SKIPPED, SLA
from uptimeguard.paging.outbox import Conflict, NewPage
from uptimeguard.sla import step_key
from uptimeguard.sla.deadlines import Pause
from uptimeguard.storage.models import IncidentRow

if TYPE_CHECKING:
    from uptimeguard.paging.service import PagingService

SWEEP = timedelta(seconds=15)


class SlaEscalation:
    def __init__(self, service: PagingService) -> None:
        self._service = service
        self._next_sweep: datetime | None = None

    async def sweep(self, now: datetime) -> None:
        """Fire every step that has come due; at most every SWEEP (steps are minutes apart)."""
        if self._next_sweep is not None and now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP
        store = self._service.store
        incidents = await store.incidents(unresolved=True, limit=100_000)
        worked = [
            (plan, incident)
            for incident in incidents
            if (plan := self._service.config.plans.get(incident.plan)) is not None
            and plan.sla_escalation
        ]
        pauses = await store.pauses_of([incident.id for _, incident in worked])
        for plan, incident in worked:
            await self._incident(plan, incident, now, as_pauses(pauses.get(incident.id, [])))

    async def _incident(
        self, plan: Plan, incident: IncidentRow, now: datetime, pauses: list[Pause]
    ) -> None:
        service = self._service
        opened_with, upgrades = await service.incidents.sla_history(incident)
        fired_steps = await service.outbox.sla_fired(incident.id)
        fired = {
            step_key(plan.sla_escalation[i]) for i in fired_steps if i < len(plan.sla_escalation)
        }
        try:
            due = service.incidents.sla.escalations_due(
                plan.id,
                opened_with,
                incident.opened_at,
                now,
                fired=fired,
                pauses=pauses,
                upgrades=upgrades,
                # An acknowledgement that later expired still met the response target.
                acknowledged_at=incident.responded_at or incident.acknowledged_at,
                resolved_at=incident.resolved_at,
            )
        except KeyError:  # a plan or severity a reload removed
            return
        due = [item for item in due if item.step.applies_to(incident.severity)]
        facts = service.facts(incident)
        timezone = service.timezone(incident.plan)
        for item in due:
            step = item.step
            index = plan.sla_escalation.index(step)
            deadline = (
                incident.response_due if step.target == "response" else incident.resolution_due
            )
            body = messages.sla_sms(facts, step.percent, step.target, deadline, timezone)
            people = ladder.recipients(step.notify, service.config, now)
            recent = await service.outbox.recent([p.id for p in people], now - ladder.HOUR)
            data = {"target": step.target, "percent": step.percent, "where": item.key}
            pages = []
            for person in people:
                capped = ladder.over_cap(person, recent.get(person.id, []), now)
                pages.append(
                    NewPage(
                        SLA,
                        person.id,
                        person.name,
                        person.phone,
                        "sms",
                        body,
                        now,
                        step=index,
                        status=SKIPPED if capped else PENDING,
                        cause="hourly limit reached (max_pages_per_hour)" if capped else None,
                        data=data,
                    )
                )
            if not pages:  # nobody on call: a row still records that the step fired
                pages.append(
                    NewPage(
                        SLA,
                        "nobody",
                        "nobody",
                        "",
                        "sms",
                        body,
                        now,
                        step=index,
                        status=SKIPPED,
                        cause=f"nobody to notify ({step.notify})",
                        data=data,
                    )
                )
            try:
                created = await service.outbox.add(incident.id, pages, now)
            except Conflict:
                continue
            names = ", ".join(p.name for p in pages)
            await service.record(
                incident.id,
                timeline.paging_event(
                    now, f"SLA escalation {item.key}: telling {names}", target=step.target
                ),
            )
            for page in created:
                if page.status == SKIPPED:
                    await service.record(incident.id, timeline.page_event(page, now, "skipped"))
            service.wake()
