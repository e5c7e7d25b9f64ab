"""The pure rules of completion callbacks (domain/callbacks.py): schedule, ids, states, body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.callbacks import (
    AttemptOutcome,
    CallbackAttempt,
    CallbackDelivery,
    CallbackEvent,
    CallbackPolicy,
    DeliveryState,
    callback_payload,
    callback_view,
    webhook_id,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_the_default_schedule_doubles_from_5_s_to_1_h_about_33_attempts_in_24_h():
    policy = CallbackPolicy(url="https://hooks.example.com/x")
    delays = [policy.delay_after(n) for n in range(1, 13)]
    assert delays[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert delays[-1] == timedelta(hours=1) and max(delays) == timedelta(hours=1)
    elapsed, attempts = timedelta(0), 1
    while elapsed + policy.delay_after(attempts) < policy.retry_window:
        elapsed += policy.delay_after(attempts)
        attempts += 1
    assert 30 <= attempts <= 36


def test_one_webhook_id_per_event_seq():
    assert webhook_id("job-1", 7) == webhook_id("job-1", 7) != webhook_id("job-1", 9)


def test_delivered_410_refused_settle_and_other_answers_keep_it_pending():
    def after(outcome: AttemptOutcome, status: int | None) -> DeliveryState:
        delivery = CallbackDelivery(
            event=CallbackEvent.COMPLETED, webhook_id="msg", created_at=NOW, updated_at=NOW
        )
        delivery.take(CallbackAttempt(outcome=outcome, status=status), NOW)
        assert delivery.attempts == 1 and delivery.last_status == status
        return delivery.state

    assert after(AttemptOutcome.DELIVERED, 204) is DeliveryState.DELIVERED
    assert after(AttemptOutcome.GONE, 410) is DeliveryState.STOPPED
    assert after(AttemptOutcome.REFUSED, None) is DeliveryState.STOPPED
    assert after(AttemptOutcome.RETRY, 503) is DeliveryState.PENDING


def test_the_view_reports_the_latest_event_in_the_contract_words():
    first = CallbackDelivery(
        event=CallbackEvent.FAILED, webhook_id="a", created_at=NOW, updated_at=NOW
    )
    first.give_up(NOW)
    second = CallbackDelivery(
        event=CallbackEvent.COMPLETED,
        webhook_id="b",
        state=DeliveryState.DELIVERED,
        attempts=2,
        created_at=NOW,
        updated_at=NOW,
    )
    assert callback_view([]).status == "pending"
    assert callback_view([second, first]).status == "failed"
    view = callback_view([first, second])
    assert (view.status, view.attempts, len(view.deliveries)) == ("delivered", 2, 2)


def test_the_body_carries_the_view_without_its_own_callback_state():
    body = callback_payload(
        CallbackEvent.CANCELLED, NOW, {"job_id": "j", "status": "cancelled", "callback": {}}
    )
    assert body == {
        "type": "job.cancelled",
        "timestamp": "2026-11-29T12:00:00.000Z",
        "data": {"job_id": "j", "status": "cancelled"},
    }
