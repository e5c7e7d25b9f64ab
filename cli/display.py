"""How a job or batch view looks: one plain line (logs, pipes) or a rich table (terminals)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

SETTLED = ("completed", "failed", "cancelled")
STATUS_STYLE = {
    "awaiting_payment": "magenta",
    "running": "cyan",
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "pending": "dim",
    "skipped": "dim",
}
STATUS_ICON = {"completed": "✔", "failed": "✖", "cancelled": "⊘", "skipped": "-", "pending": "·"}
COUNT_ORDER = ("awaiting_payment", "running", "completed", "failed", "cancelled")


def _stale(view: dict[str, Any]) -> str:
    return " (stale: no worker answered)" if view.get("stale") else ""


# -- a job --------------------------------------------------------------------------------


def marketplace_summary(name: str, state: dict[str, Any]) -> str:
    """``ebay completed (listing 1100)``, ``etsy running (attempt 2)``, ``vinted failed (…)``."""
    status = str(state.get("status", "?"))
    attempts = int(state.get("attempts") or 0)
    details = []
    if state.get("listing_id"):
        details.append(f"listing {state['listing_id']}")
    if state.get("action"):
        details.append(str(state["action"]))
    if attempts > 1 or (status == "running" and attempts):
        details.append(f"attempt {attempts}")
    error = state.get("error")
    if isinstance(error, dict) and status == "failed":
        details.append(f"{error.get('code')}: {error.get('message')}")
    return f"{name} {status}" + (f" ({', '.join(details)})" if details else "")


def job_line(view: dict[str, Any]) -> str:
    parts = [f"job {view['job_id']}: {view['status']}{_stale(view)}"]
    marketplaces = view.get("marketplaces") or {}
    parts += [marketplace_summary(name, state) for name, state in marketplaces.items()]
    return " | ".join(parts)


def job_outcome(view: dict[str, Any]) -> list[str]:
    """The closing lines: one per marketplace with its listing or error, then the job's error."""
    lines = []
    for name, state in (view.get("marketplaces") or {}).items():
        url = state.get("listing_url")
        lines.append(f"  {marketplace_summary(name, state)}" + (f" {url}" if url else ""))
    error = view.get("error")
    if isinstance(error, dict):
        lines.append(f"  error: {error.get('code')}: {error.get('message')}")
    return lines


def job_renderable(view: dict[str, Any]) -> RenderableType:
    status = str(view["status"])
    title = Text.assemble(
        ("job ", "bold"),
        (str(view["job_id"]), "bold"),
        "  ",
        (status, STATUS_STYLE.get(status, "")),
    )
    if view.get("stale"):
        title.append(_stale(view), "dim")
    table = Table(box=None, show_header=True, header_style="dim", pad_edge=False)
    for column in ("", "marketplace", "status", "attempts", "listing / error"):
        table.add_column(column)
    for name, state in (view.get("marketplaces") or {}).items():
        state_status = str(state.get("status", "?"))
        icon: RenderableType = (
            Spinner("dots", style="cyan")
            if state_status == "running"
            else Text(STATUS_ICON.get(state_status, " "), STATUS_STYLE.get(state_status, ""))
        )
        error = state.get("error")
        outcome = state.get("listing_id") or (
            f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else ""
        )
        table.add_row(
            icon,
            name,
            Text(state_status, STATUS_STYLE.get(state_status, "")),
            str(state.get("attempts") or ""),
            str(outcome),
        )
    if status == "awaiting_payment":
        return Group(title, table, Text(f"waiting for payment: {pay_hint(view['job_id'])}", "dim"))
    return Group(title, table)


def pay_hint(target_id: str) -> str:
    return f"marketplace-jobs pay {target_id}"


# -- a batch ------------------------------------------------------------------------------


def counts_text(view: dict[str, Any]) -> str:
    counts = view.get("counts") or {}
    shown = [f"{counts[name]} {name}" for name in COUNT_ORDER if counts.get(name)]
    return ", ".join(shown) or "no jobs yet"


def batch_line(view: dict[str, Any]) -> str:
    size = view.get("size", len(view.get("job_ids") or []))
    return (
        f"batch {view['batch_id']}: {view['status']} {int(view.get('progress') or 0)}% "
        f"({size} jobs: {counts_text(view)}){_stale(view)}"
    )


def batch_renderable(view: dict[str, Any]) -> RenderableType:
    status = str(view["status"])
    progress = int(view.get("progress") or 0)
    title = Text.assemble(
        ("batch ", "bold"),
        (str(view["batch_id"]), "bold"),
        "  ",
        (status, STATUS_STYLE.get(status, "")),
    )
    bar = Table.grid(padding=(0, 1))
    bar.add_row(
        ProgressBar(total=100, completed=progress, width=40),
        Text(f"{progress:3d}%", "bold"),
        Text(f"{view.get('size', '?')} jobs: {counts_text(view)}"),
    )
    parts: list[RenderableType] = [title, bar]
    if status == "awaiting_payment":
        parts.append(Text(f"waiting for payment: {pay_hint(view['batch_id'])}", "dim"))
    if view.get("stale"):
        parts.append(Text(_stale(view).strip(), "dim"))
    return Group(*parts)


# -- a listing ------------------------------------------------------------------------------


def listing_lines(view: dict[str, Any]) -> list[str]:
    """``listing SKU1: live, quantity 3, sold 0`` then one line per marketplace."""
    lines = [
        f"listing {view['sku']}: {view['status']}, quantity {view.get('quantity', 0)}, "
        f"sold {view.get('sold', 0)}, oversold {view.get('oversold', 0)}{_stale(view)}"
    ]
    for name, place in (view.get("marketplaces") or {}).items():
        details = [f"quantity {place.get('quantity', 0)}"]
        if place.get("listing_id"):
            details.insert(0, f"listing {place['listing_id']}")
        if place.get("job_id"):
            details.append(f"job {place['job_id']}")
        error = place.get("error")
        if isinstance(error, dict):
            details.append(f"{error.get('code')}: {error.get('message')}")
        url = place.get("listing_url")
        lines.append(
            f"  {name} {place.get('state')} ({', '.join(details)})" + (f" {url}" if url else "")
        )
    jobs = view.get("job_ids") or []
    if jobs:
        lines.append(f"  jobs applied: {', '.join(jobs)}")
    return lines
