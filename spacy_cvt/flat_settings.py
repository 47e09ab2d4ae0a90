"""One settings dataclass per layer, written in configs as flat keys.

spaCy and thinc validate a config block against the signature of the function it
names, so a registered function lists every setting as a parameter. ``flat_settings``
builds that signature from a dataclass's fields: the fields (names, types, defaults)
are stated once, in the dataclass, and the function receives the built dataclass.
"""

import dataclasses
import inspect
from typing import Any, Callable, Type, TypeVar

Settings = TypeVar("Settings")


def flat_settings(make: Callable[..., Any], settings_class: Type[Settings]) -> Callable[..., Any]:
    """``make(..., settings=settings_class(...))`` as a function of its other parameters and the fields.

    The fields become keyword parameters with the dataclass's types and defaults;
    ``make``'s other parameters keep theirs.
    """
    fields = dataclasses.fields(settings_class)
    own = [p for p in inspect.signature(make).parameters.values() if p.name != "settings"]
    flat = [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=field.type,
            default=_default(field),
        )
        for field in fields
    ]

    def function(*args: Any, **kwargs: Any) -> Any:
        settings = settings_class(**{field.name: kwargs.pop(field.name) for field in fields if field.name in kwargs})
        return make(*args, settings=settings, **kwargs)

    function.__signature__ = inspect.Signature(own + flat)  # type: ignore[attr-defined]
    function.__annotations__ = {p.name: p.annotation for p in own + flat}
    for attribute in ("__doc__", "__name__", "__qualname__", "__module__"):
        setattr(function, attribute, getattr(make, attribute))
    return function


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return inspect.Parameter.empty
