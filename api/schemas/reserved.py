"""Reserved-name bodies."""
from __future__ import annotations

from pydantic import BaseModel, Field


class ReservedIn(BaseModel):
    pattern: str = Field(max_length=100, description="an exact name, or a prefix ending in * (admin*)")
    domain: str | None = Field(default=None, max_length=253, description="omit for the global list")
    reason: str = Field(default="", max_length=200)




class ReservedForm(BaseModel):
    """The Reserved page's form: ReservedIn's fields, a blank domain being the global list."""
    domain: str = Field(default="", max_length=253)
    pattern: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=200)


class ReservedOut(BaseModel):
    id: int
    pattern: str
    prefix: bool = Field(description="a prefix (admin*) rather than an exact name")
    reason: str
    domain: str | None = Field(description="the domain whose list it is on; none for the global list")


class ReservedListOut(BaseModel):
    list: str
    entries: list[ReservedOut]
