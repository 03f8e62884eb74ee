"""Settings changed for one test, named as their variables are (without ``WALLET_``)."""

from __future__ import annotations

from typing import Any

import msgspec

from wallet_api.settings import Settings, setting_fields

__all__ = ["replaced"]


def replaced(settings: Settings, **changes: Any) -> Settings:
    """``settings`` with these fields changed: ``replaced(s, payout_lanes=1, env="production")``.

    A test changes one or two settings, often of several sections; naming each by its
    variable keeps that visible where a replace per section would bury it.
    """
    fields = {f.variable.removeprefix("WALLET_").lower(): f for f in setting_fields()}
    kernel: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    for name, value in changes.items():
        field = fields[name]
        if field.section is None:
            kernel[field.attribute] = value
        else:
            sections.setdefault(field.section, {})[field.attribute] = value
    for section, values in sections.items():
        kernel[section] = msgspec.structs.replace(getattr(settings, section), **values)
    return msgspec.structs.replace(settings, **kernel)
