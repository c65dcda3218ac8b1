"""A faster ``__init__`` for the frozen, slotted dataclasses built on every call.

A frozen dataclass's generated ``__init__`` stores each field with
``object.__setattr__(self, name, value)``, a generic call that costs several times a plain
attribute store; a call on ``FakeProvider`` builds about fifty fields (the request, the
completion, the samples, the result), and that was about a fifth of ``Strategy.run``'s own
time. :func:`fast_init` gives such a class an ``__init__`` with the same signature that
stores each field through its slot descriptor instead. Everything else stays the
dataclass's: ``repr``, equality, hashing, ``dataclasses.replace`` and ``fields``, and
assignment after construction still raises ``FrozenInstanceError``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Replace the ``__init__`` of a frozen, slotted dataclass by a faster equivalent.

    Apply it above ``@dataclass(frozen=True, slots=True)``. Defaults, default factories
    and ``__post_init__`` behave as in the dataclass's own ``__init__``.

    Raises:
        TypeError: ``cls`` is not a frozen dataclass with slots, or it uses a feature the
            faster ``__init__`` does not reproduce (``init=False`` fields, keyword-only
            fields, ``InitVar``).
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        raise TypeError(f"fast_init needs a frozen dataclass with slots; {cls.__name__} is not.")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    # The dataclass's own signature must be the fields, in order, all positional-or-keyword:
    # init=False fields, keyword-only fields and InitVars would not be reproduced.
    code = cls.__init__.__code__
    own = code.co_varnames[1 : code.co_argcount]
    if list(own) != [f.name for f in fields] or code.co_kwonlyargcount:
        raise TypeError(f"fast_init does not reproduce {cls.__name__}'s __init__ options.")
    namespace: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    arguments, body = [], []
    for f in fields:
        namespace[f"_set_{f.name}"] = vars(cls)[f.name].__set__  # the slot's own store
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            arguments.append(f"{f.name}=_default_{f.name}")
            body.append(f"_set_{f.name}(self, {f.name})")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            arguments.append(f"{f.name}=_MISSING")
            body.append(
                f"_set_{f.name}(self, _factory_{f.name}() if {f.name} is _MISSING else {f.name})"
            )
        else:
            arguments.append(f.name)
            body.append(f"_set_{f.name}(self, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    lines = "\n    ".join(body or ["pass"])
    source = f"def __init__(self, {', '.join(arguments)}) -> None:\n    {lines}\n"
    exec(compile(source, f"<fast_init {cls.__qualname__}>", "exec"), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 - assigning a method mypy would refuse
    return cls
