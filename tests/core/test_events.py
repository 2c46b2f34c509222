import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from apps.core.models import Event
from apps.core.services import event_emit, events_claim


@pytest.mark.django_db
def test_event_is_written_with_its_subject():
    user = User.objects.create(username="subject")
    event = event_emit(kind=Event.Kind.PLUGIN_FAILED, subject=user, payload={"error": "boom"})
    assert (event.subject_type, event.subject_id, event.payload) == ("auth.user", user.pk, {"error": "boom"})
    assert event.processed_at is None


@pytest.mark.django_db
def test_event_rolls_back_with_the_change():
    with pytest.raises(RuntimeError), transaction.atomic():
        event_emit(kind=Event.Kind.TREND_CREATED)
        raise RuntimeError("the change failed")
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_events_claim_filters_by_kind_and_never_returns_a_claimed_event():
    created = [event_emit(kind=Event.Kind.TREND_CREATED) for _ in range(3)]
    failed = event_emit(kind=Event.Kind.PLUGIN_FAILED)
    first = events_claim(kinds=[Event.Kind.TREND_CREATED], limit=2)
    second = events_claim(kinds=[Event.Kind.TREND_CREATED], limit=10)
    assert [e.pk for e in first] == [created[0].pk, created[1].pk]
    assert [e.pk for e in second] == [created[2].pk]
    assert events_claim(limit=10) == [failed]
    assert events_claim(limit=10) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_split_the_events_without_overlap():
    ids = {event_emit(kind=Event.Kind.TREND_CREATED).pk for _ in range(200)}
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def claimer():
        mine = []
        barrier.wait()
        while batch := events_claim(limit=7):
            mine.extend(e.pk for e in batch)
        claimed.append(mine)
        connection.close()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [pk for mine in claimed for pk in mine]
    assert len(everything) == len(set(everything)) == len(ids)
    assert set(everything) == ids
