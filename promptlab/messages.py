"""The neutral chat message that templates produce and providers consume."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from promptlab._frozen import fast_init
from promptlab.errors import TemplateError

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@fast_init
@dataclass(frozen=True, slots=True)
class Message:
    """One chat turn.

    Args:
        role: ``"system"``, ``"user"`` or ``"assistant"``.
        content: The turn's text.

    Example:
        >>> Message("user", "What is 2 + 2?")
        Message(role='user', content='What is 2 + 2?')
    """

    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise TemplateError(
                f"Message role {self.role!r} is not allowed; use one of {', '.join(ROLES)}."
            )

    def to_dict(self) -> dict[str, str]:
        """The ``{"role": ..., "content": ...}`` form most chat APIs take."""
        return {"role": self.role, "content": self.content}
