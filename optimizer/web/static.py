"""The console's own scripts and styles, and Leaflet from the vendored copy (no CDN).

Pages load these by URL rather than inline, so the pages' CSP can forbid inline script.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from optimizer.outputs.assets import leaflet_css, leaflet_js

router = APIRouter()

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@cache
def _own(name: str) -> str:
    return files("optimizer.web").joinpath("static", name).read_text(encoding="utf-8")


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> Response:
    """Leaflet and the console's files; public (they hold no data)."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if name == "leaflet.js":
        text = leaflet_js()
    elif name == "leaflet.css":
        text = leaflet_css()
    elif suffix in _TYPES and "/" not in name and name in _listing():
        text = _own(name)
    else:
        raise HTTPException(404)
    return Response(text, media_type=_TYPES[suffix], headers={"Cache-Control": "max-age=3600"})


@cache
def _listing() -> frozenset[str]:
    return frozenset(p.name for p in files("optimizer.web").joinpath("static").iterdir())
