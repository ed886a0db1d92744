"""Column helpers shared by the domain models."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def string_enum(enum_class: type[enum.Enum], length: int = 30) -> Enum:
    """A portable enum column that stores the members' values as plain strings."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
