"""Cart bodies: addresses picked in the grid."""
from __future__ import annotations

from pydantic import BaseModel, Field


class CartPick(BaseModel):
    address: str = Field(max_length=320)
    kind: str = Field(default="forwarder", max_length=20)


class CartIn(BaseModel):
    picks: list[CartPick] = Field(min_length=1, max_length=50)




class CartLineOut(BaseModel):
    address: str
    kind: str
    status: str | None = Field(description="available, taken or unavailable now")


class CartOut(BaseModel):
    lines: list[CartLineOut]
