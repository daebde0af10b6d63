"""Records captured on a kiosk's own store, as visitors and an agent would leave them."""

from __future__ import annotations

from uuid import UUID

from kiosk.core.store import KioskStore
from qualivilles.protocol import (
    RecordKind,
    ResponseStatus,
    VisitEvent,
    VisitEventPayload,
    new_record_id,
)


def fill(store: KioskStore, answers: int = 3, visits: int = 2) -> list[str]:
    """Capture some answers and visit events; return their record ids in capture order."""
    ids = []
    for index in range(answers):
        response_id = store.start_response("qualivilles-accueil", 1, "fr")
        store.record_answer(response_id, "overall", ["satisfied", "dissatisfied"][index % 2])
        store.seal_response(response_id, ResponseStatus.COMPLETE)
        ids.append(response_id)
    for _ in range(visits):
        payload = VisitEventPayload(visit_id=UUID(new_record_id()), event=VisitEvent.ARRIVED)
        ids.append(store.add_record(RecordKind.VISIT_EVENT, payload))
    return ids
