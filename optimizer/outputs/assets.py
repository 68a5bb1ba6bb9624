"""Pages that open offline: Leaflet inlined, CDN assets our pages do not use dropped.

:func:`inline_assets` rewrites a rendered folium page so that it needs no network apart
from map tiles: Leaflet's JS and CSS (vendored in ``optimizer/static/leaflet`` from the
npm package ``leaflet`` 1.9.4, BSD-2-Clause, see ``static/leaflet/LICENSE``) are put
inline, with its images as data URIs, and what our pages do not use (jQuery, Bootstrap,
Font Awesome, Leaflet.awesome-markers) is dropped. Plain text in, text out: no folium
here, so the agent page can inline Leaflet without loading the map library.

Pages should draw stops with ``CircleMarker`` or ``DivIcon`` markers: ``folium.Icon``
needs Font Awesome and awesome-markers from a CDN, and :func:`inline_assets` refuses a
page that uses it rather than write a broken one.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib.resources import files

# ---------------------------------------------------------------- base map


# -------------------------------------------------------------- offline page

_SCRIPT_SRC = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>\s*</script>", re.IGNORECASE
)
_LINK = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_STYLESHEET = re.compile(r"\brel\s*=\s*[\"']?stylesheet", re.IGNORECASE)
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)

#: Assets folium adds to every page that our pages do not need.
_UNUSED = (
    "jquery",
    "bootstrap",
    "glyphicons",
    "fontawesome",
    "font-awesome",
    "awesome-markers",
    "awesome.rotate",
)


@cache
def _static_text(name: str) -> str:
    return files("optimizer").joinpath("static", "leaflet", name).read_text(encoding="utf-8")


@cache
def _static_data_uri(name: str) -> str:
    data = files("optimizer").joinpath("static", "leaflet", name).read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


#: folium builds popup and tooltip contents with jQuery's ``$(html)``; this is the one
#: use it makes of jQuery, so a three-line stand-in replaces the 90 kB library.
_JQUERY_SHIM = (
    "window.$ = window.$ || function (html) {"
    " var t = document.createElement('template'); t.innerHTML = String(html).trim();"
    " return t.content.firstChild; };"
)


@cache
def leaflet_js() -> str:
    """Vendored Leaflet, then default marker icons as data URIs (no image requests)."""
    icons = (
        "L.Icon.Default.imagePath = '';\n"
        "L.Icon.Default.mergeOptions({"
        f"iconUrl: '{_static_data_uri('marker-icon.png')}', "
        f"iconRetinaUrl: '{_static_data_uri('marker-icon-2x.png')}', "
        f"shadowUrl: '{_static_data_uri('marker-shadow.png')}'}});\n"
    )
    leaflet = _static_text("leaflet.js").replace("</script", "<\\/script")
    return f"{leaflet}\n{icons}{_JQUERY_SHIM}\n"


@cache
def leaflet_css() -> str:
    """Vendored Leaflet CSS with its images inlined."""
    css = _static_text("leaflet.css")
    return re.sub(
        r"url\(images/([\w.-]+\.png)\)",
        lambda m: f"url({_static_data_uri(m.group(1))})",
        css,
    )


def inline_assets(html: str) -> str:
    """Make a rendered folium page open with no network apart from map tiles.

    Leaflet's script and stylesheet links become inline copies of the vendored files;
    jQuery, Bootstrap, Font Awesome and awesome-markers links are dropped. Local
    (relative) links are kept.

    Raises
    ------
    ValueError
        The page links another remote script or stylesheet, or uses awesome-markers
        (``folium.Icon``), neither of which would work offline.
    """
    if "L.AwesomeMarkers" in html:
        msg = (
            "the map uses folium.Icon (Leaflet.awesome-markers with Font Awesome), "
            "which is not vendored; draw stops with CircleMarker or DivIcon"
        )
        raise ValueError(msg)
    remote: list[str] = []

    def script(m: re.Match[str]) -> str:
        url = m.group(1)
        if not _REMOTE.match(url):
            return m.group(0)
        base = url.rsplit("/", 1)[-1].lower()
        if base in ("leaflet.js", "leaflet-src.js") and "leaflet" in url.lower():
            return f"<script>\n{leaflet_js()}\n</script>"
        if any(u in url.lower() for u in _UNUSED):
            return ""
        remote.append(url)
        return m.group(0)

    def link(m: re.Match[str]) -> str:
        tag = m.group(0)
        href = _HREF.search(tag)
        if href is None or not _STYLESHEET.search(tag) or not _REMOTE.match(href.group(1)):
            return tag
        url = href.group(1)
        if url.lower().rsplit("/", 1)[-1] == "leaflet.css":
            return f"<style>\n{leaflet_css()}\n</style>"
        if any(u in url.lower() for u in _UNUSED):
            return ""
        remote.append(url)
        return tag

    out = _SCRIPT_SRC.sub(script, html)
    out = _LINK.sub(link, out)
    if remote:
        msg = (
            "the map page links assets that are not vendored and would need the "
            f"network: {', '.join(remote)}"
        )
        raise ValueError(msg)
    return out


def remote_assets(html: str) -> list[str]:
    """Script and stylesheet URLs on another host (what :func:`inline_assets` removes)."""
    urls = [m.group(1) for m in _SCRIPT_SRC.finditer(html) if _REMOTE.match(m.group(1))]
    for m in _LINK.finditer(html):
        tag = m.group(0)
        href = _HREF.search(tag)
        if href and _STYLESHEET.search(tag) and _REMOTE.match(href.group(1)):
            urls.append(href.group(1))
    return urls
