"""What every input is before a handler sees it: a database id fits PostgreSQL's `integer`, and text
holds no NUL or other control character (PostgreSQL cannot store a NUL; the rest mean nothing in a
name, an address or a form field). One id type for paths, queries, forms and bodies; one check over
every text input of the JSON API and the pages, so a handler never meets either."""
from __future__ import annotations

import re
from typing import Annotated, Any

import annotated_types
from fastapi import Depends, Request
from starlette.formparsers import MultiPartException

from core.errors import BusinessError
from core.refusals import Refusals, refuse

DB_ID_MAX = 2**31 - 1   # ids are PostgreSQL `integer` (serial) columns

# A database id: in a path an id out of this range is a resource that cannot exist (404, see
# api/app.py); in a query, a form or a body it is an invalid field (422).
Id = Annotated[int, annotated_types.Interval(ge=1, le=DB_ID_MAX)]

# Line breaks and tabs are text (a reason, an autoresponder's body); every other control character
# (C0, DEL, C1) and a lone surrogate (JSON's "\ud800", not encodable as UTF-8) is refused.
# A regular expression rather than a loop over unicodedata: availability checks send 8000 characters.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def bad_character(text: str) -> str | None:
    """The first character no text input may hold, or None."""
    found = _FORBIDDEN.search(text)
    return found.group() if found else None


def _refuse(field: str, char: str, status: int) -> BusinessError:
    return refuse(Refusals.TEXT_INVALID, field, field_name=field, char=ord(char), status=status)


def _check_json(value: Any, field: str) -> None:
    if isinstance(value, str):
        if (char := bad_character(value)) is not None:
            raise _refuse(field or "body", char, 422)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{field}.{key}" if field else str(key)
            if (char := bad_character(str(key))) is not None:
                raise _refuse(name, char, 422)
            _check_json(item, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{field}.{i}" if field else str(i))


async def refuse_control_characters(request: Request) -> None:
    """Every text input of the request: path segments (404: no such thing), query, form fields and
    JSON strings (422, naming the field). Runs before the handler's own parameters are validated."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and (char := bad_character(value)) is not None:
            raise _refuse(name, char, 404)
    for name, value in request.query_params.multi_items():
        for text in (name, value):
            if (char := bad_character(text)) is not None:
                raise _refuse(name, char, 422)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()   # cached: the handler reads this same form
        except MultiPartException as exc:
            raise refuse(Refusals.FORM_INVALID, detail=exc.message) from None
        for name, value in form.multi_items():
            for text in (name, value if isinstance(value, str) else ""):
                if (char := bad_character(text)) is not None:
                    raise _refuse(name, char, 422)
    elif content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = await request.json()   # cached: FastAPI parsed it already for a handler with a body
        except ValueError:
            return   # not JSON: a handler with a body has refused it already, one without ignores it
        _check_json(data, "")


CleanText = Depends(refuse_control_characters)
