"""Catalog answers: categories, listed domains, and the availability grid."""
from __future__ import annotations

from pydantic import BaseModel, Field


class CategoryOut(BaseModel):
    name: str
    slug: str
    parent: str | None = Field(description="the parent category's name, for a subcategory")
    domains: int


class CatalogOut(BaseModel):
    categories: list[CategoryOut]


class DomainsOut(BaseModel):
    domains: list[str]
    total: int
    page: int
    pages: int


class CellOut(BaseModel):
    name: str
    domain: str
    address: str
    status: str = Field(description="available, taken, unavailable or invalid (operators: the exact status)")
    reason: str | None = Field(default=None, description="why it is invalid (operators: every cell)")
    suggestions: list[str] | None = Field(default=None, description="up to five free alternatives")


class GridOut(BaseModel):
    cells: list[CellOut]
