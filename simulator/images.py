"""A local image source: what listing image URLs answer on machines without the internet.

The worker's image downloads (``activities/images.py``) go to ``GET /images/<host>/<path>``
instead of ``https://<host>/<path>`` when ``IMAGE_FETCH_OVERRIDE_URL`` points here (the default
while Etsy is the simulator). Any path answers a small valid JPEG, so the contract's example
listing (``https://example.com/a.jpg``) can be published offline. Two path forms stand for the
failures a real image host has, for tests:

- a path with the segments ``status/<code>`` (``/images/example.com/status/404/a.jpg``)
  answers HTTP ``<code>`` (e.g. 404: the image is gone);
- a path ending in ``.html`` answers an HTML page (a URL that is not an image);
- a path with the segment ``redirect-to`` (``/images/example.com/redirect-to/10.0.0.1/a.jpg``)
  answers 302 to ``https://`` + the rest (``https://10.0.0.1/a.jpg``): an image host that
  redirects the download, e.g. to an address the worker's guard must refuse.
"""

from __future__ import annotations

import base64
import itertools
from http import HTTPStatus

from fastapi import APIRouter, Request, Response

from simulator.pipeline import sim_state

router = APIRouter(prefix="/images", tags=["image source"])

SAMPLE_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZG"
    "NywtQFdBRkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09P"
    "T09PT09PT09PT09PT09PT09PT09PT09PT0//wAARCAAIAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAA"
    "AAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAk"
    "M2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT"
    "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QA"
    "HwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdh"
    "cRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hp"
    "anN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk"
    "5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwChRRRXpHCf/9k="
)
"""An 8x8 baseline JPEG (632 bytes)."""


@router.get("/{path:path}")
async def image(request: Request, path: str) -> Response:
    """The image at ``https://<path>`` as this machine's stand-in serves it."""
    entry = sim_state(request).log_call("images", "get_image", request.method, request.url.path)
    response = _answer(path)
    entry["status"] = response.status_code
    return response


def _answer(path: str) -> Response:
    parts = path.split("/")
    if "redirect-to" in parts[1:]:
        rest = "/".join(parts[parts.index("redirect-to", 1) + 1 :])
        return Response(status_code=302, headers={"location": f"https://{rest}"})
    for name, value in itertools.pairwise(parts):
        if name == "status" and value.isdigit() and 400 <= int(value) <= 599:
            code = int(value)
            known = {s.value: s.phrase for s in HTTPStatus}
            return Response(known.get(code, "Error"), status_code=code, media_type="text/plain")
    if path.endswith(".html"):
        return Response("<!doctype html><title>Not an image</title>", media_type="text/html")
    return Response(
        SAMPLE_JPEG,
        media_type="image/jpeg",
        headers={"cache-control": "public, max-age=86400"},
    )
