"""The marketplaces a job can publish to, and the names Temporal knows them by."""

from __future__ import annotations

from enum import StrEnum


class Marketplace(StrEnum):
    EBAY = "ebay"
    ETSY = "etsy"
    VINTED = "vinted"


ALL_MARKETPLACES: tuple[Marketplace, ...] = (Marketplace.EBAY, Marketplace.ETSY, Marketplace.VINTED)

JOB_TASK_QUEUE = "jobs"
"""Task queue polled by the workflow worker."""
CALLBACK_TASK_QUEUE = "callbacks"
"""Completion callbacks' own queue: requests to user-given URLs run on workers that can be
scaled, limited and placed (network egress) apart from the marketplaces' (issue 16)."""


def marketplace_task_queue(marketplace: Marketplace) -> str:
    """Each marketplace has its own task queue, so each has its own rate limit and scaling."""
    return f"marketplace-{marketplace.value}"


ALL_TASK_QUEUES = (
    JOB_TASK_QUEUE,
    *(marketplace_task_queue(m) for m in Marketplace),
    CALLBACK_TASK_QUEUE,
)
"""Every task queue a worker can poll (WORKER_TASK_QUEUES picks among them)."""


def publish_activity_name(marketplace: Marketplace) -> str:
    """The registered activity name; workflows call activities by this name only."""
    return f"publish_to_{marketplace.value}"


def withdraw_activity_name(marketplace: Marketplace) -> str:
    """The registered name of the activity that ends a listing on ``marketplace`` (issue 13)."""
    return f"withdraw_from_{marketplace.value}"


def read_orders_activity_name(marketplace: Marketplace) -> str:
    """The activity that reads a marketplace's orders since a cursor (issue 14)."""
    return f"read_orders_{marketplace.value}"


def set_quantity_activity_name(marketplace: Marketplace) -> str:
    """The activity that sets a live listing's quantity on a marketplace (issue 14)."""
    return f"set_quantity_{marketplace.value}"


def idempotency_key(job_id: str, marketplace: Marketplace) -> str:
    """The key every call for one (job, marketplace) carries, across attempts and retries."""
    return f"{job_id}:{marketplace.value}"
