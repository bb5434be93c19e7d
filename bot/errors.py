"""The one exception services raise to refuse a request in words a person can read, in any language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Refusal(ValueError):
    """A refused request: a catalog message id plus its parameters, translated where it is shown."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid.format(**params))
        self.msgid = msgid
        self.params = params

    def translate(self, gettext: Callable[[str], str]) -> str:
        """The message in the reader's language."""
        return gettext(self.msgid).format(**self.params)
