"""What the agents' and borrowers' link pages share: templates, 404, form checks.

Link pages have no session: the token in the path is the credential. Whatever is wrong
with it (unknown, expired, revoked, another kind, a visit the link does not cover) is
answered with the same plain 404 as a path that does not exist, so a guess learns
nothing. Their forms carry a token derived from the link's own form key
(:func:`optimizer.book.links.form_token`): a form posted from anywhere but the link's
page is refused.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache
from typing import Any, NoReturn

import jinja2
from fastapi import HTTPException
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from optimizer.book.links import Link, form_token
from optimizer.outputs.escaping import page_environment
from optimizer.web.auth import same
from optimizer.web.context import WebContext

#: The longest note or reason kept from a form (a phone keyboard, not a document).
MAX_TEXT = 2000
#: Link pages are private and short-lived: never cached, never indexed.
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


@cache
def environment() -> jinja2.Environment:
    """The link pages' templates, beside the static agent page's parts they reuse."""
    return page_environment(
        jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("optimizer.web", "templates"),
                jinja2.PackageLoader("optimizer", "templates"),
            ]
        )
    )


def render(name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    page = environment().get_template(name).render(**values)
    return HTMLResponse(page, status_code=status_code, headers=HEADERS)


def not_found() -> NoReturn:
    """The one answer to every link that is not valid for what was asked."""
    raise HTTPException(404)


def zone(ctx: WebContext) -> dt.tzinfo:
    return zoneinfo.ZoneInfo(ctx.settings.timezone)


def text_field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


def check_form(form: FormData, link: Link, purpose: str) -> None:
    """Refuse (403) a form without the token of this link's page."""
    sent = form.get("form_token", "")
    if not isinstance(sent, str) or not sent or not same(sent, form_token(link, purpose)):
        raise HTTPException(403, "this form is not from the link's page: open the link again")


def local_date(text: str) -> dt.date | None:
    """A date from an ``<input type=date>`` (YYYY-MM-DD), or None when empty or malformed."""
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
