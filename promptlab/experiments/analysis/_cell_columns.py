"""How the cells table holds a column while rows are added: Arrow pieces, not objects.

A 100,000-row table built from Python objects keeps every row's string, list and its
strings alive until pandas gets them. Here a column of strings, or of lists of strings,
goes to Arrow a piece of rows at a time, so what a piece held is freed as the table grows
and its memory serves the next rows.

* Text columns get the dtype pandas gives a list of strings (``str``, Arrow-backed, from
  pandas 3), holding the pieces as they are. Where pandas keeps strings as objects
  (pandas 2) they stay objects.
* List columns (``answers``, ``outputs``, ``finish_reasons``) become
  :data:`LIST_OF_STRINGS` (``pd.ArrowDtype(pa.list_(pa.large_string()))`` where pandas
  keeps its text as Arrow ``large_string``): a row reads back as a Python ``list`` of
  ``str`` (or ``None``), through ``[]``, ``.iloc``, iteration, ``.tolist()`` and
  ``to_dict()``; ``.list`` offers Arrow's list methods (``cells["answers"].list.len()``).

A piece holding anything else (a None where a string was expected, a number in a list)
stays objects, and then the whole column is what ``pd.Series`` of its values gives,
as it always was.

Pieces are built in the C heap's allocator (``pa.system_memory_pool()``), the one the
Python objects they replace were freed to, so each serves the other in turn; Arrow's
default allocator kept what it had freed apart (measured on 100,000 rows with
``bench/large_runs.py``: about 30 MB more at the peak).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["LIST_OF_STRINGS", "ListColumn", "TextColumn"]

#: Rows per piece.
_PIECE = 4096


@dataclass(frozen=True)
class _ArrowText:
    """The dtype pandas gives a list of strings, and the Arrow type it stores them in."""

    dtype: Any
    storage_type: pa.DataType


def _arrow_text() -> _ArrowText | None:
    """How pandas stores a list of strings, when it keeps them in Arrow (else None)."""
    inferred = pd.Series(["text"])
    if getattr(inferred.dtype, "storage", None) != "pyarrow":
        return None
    return _ArrowText(inferred.dtype, pa.array(inferred.array).type)


_ARROW_TEXT = _arrow_text()

#: The dtype of the list columns: one Arrow list of (nullable) strings per row, held as
#: pandas holds a text column's strings, so a list's items can be one without a copy.
LIST_OF_STRINGS = pd.ArrowDtype(
    pa.list_(pa.large_string() if _ARROW_TEXT is None else _ARROW_TEXT.storage_type)
)


#: Where pieces are allocated (see the module's docstring).
_HEAP = pa.system_memory_pool()


class _PiecedColumn(MutableSequence[Any]):
    """A column whose full pieces become Arrow arrays when their values allow it.

    Rows are only appended or replaced, never deleted: a later record of a cell replaces
    its row, and a packed piece it lands in is unpacked to a list again.
    """

    #: What :meth:`series` gives for an empty column.
    empty_dtype: ClassVar[Any]

    def __init__(self) -> None:
        self._pieces: list[Any] = []  # Arrow arrays, or lists of values
        self._packed: list[bool] = []
        self._open: list[Any] = []

    # -- what a kind of column says ------------------------------------------------

    def arrow_type(self) -> pa.DataType | None:
        """The Arrow type of a packed piece; None when nothing is packed."""
        raise NotImplementedError

    def accepts(self, values: list[Any]) -> bool:
        """Whether ``values`` pack into :meth:`arrow_type` with nothing changed."""
        raise NotImplementedError

    def wrap(self, chunks: pa.ChunkedArray) -> pd.Series:
        """The column made of every piece, all of them packed."""
        raise NotImplementedError

    def whole(self, values: list[Any]) -> pd.Series:
        """The column made of ``values`` when some piece was not packed."""
        raise NotImplementedError

    # -- the sequence --------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._pieces) * _PIECE + len(self._open)

    def __getitem__(self, place: Any) -> Any:
        piece, at = divmod(place, _PIECE)
        return self._piece(piece)[at]

    def __setitem__(self, place: Any, value: Any) -> None:
        piece, at = divmod(place, _PIECE)
        self._piece(piece)[at] = value

    def __delitem__(self, place: Any) -> None:
        raise TypeError("rows of the cells table are replaced, never deleted")

    def insert(self, place: int, value: Any) -> None:
        if place != len(self):
            raise TypeError("rows of the cells table are added at the end")
        self._open.append(value)
        if len(self._open) == _PIECE:
            self._close()

    def append(self, value: Any) -> None:
        self.insert(len(self), value)

    def _close(self) -> None:
        """Close the open piece, packed when its values allow it."""
        values, self._open = self._open, []
        self._pieces.append(values)
        self._packed.append(False)
        self._pack(len(self._pieces) - 1)

    def _pack(self, piece: int) -> None:
        """Make ``piece`` an Arrow array when its values allow it."""
        arrow_type, values = self.arrow_type(), self._pieces[piece]
        if arrow_type is not None and self.accepts(values):
            self._pieces[piece] = pa.array(values, type=arrow_type, memory_pool=_HEAP)
            self._packed[piece] = True

    def _piece(self, piece: int) -> list[Any]:
        """The values of ``piece`` as a list (a packed piece is unpacked for good)."""
        if piece == len(self._pieces):
            return self._open
        if self._packed[piece]:
            self._pieces[piece] = self._pieces[piece].to_pylist()
            self._packed[piece] = False
        values: list[Any] = self._pieces[piece]
        return values

    def _finish(self) -> bool:
        """Close the open piece and pack every piece that can be; True if all are packed."""
        if self._open:
            self._close()
        for piece, packed in enumerate(self._packed):
            if not packed:  # a piece a later record was put in may pack now
                self._pack(piece)
        return all(self._packed)

    def _rows(self) -> Iterator[Any]:
        """Every row's value, in order (packed pieces stay packed)."""
        for piece, packed in zip(self._pieces, self._packed, strict=True):
            yield from piece.to_pylist() if packed else piece

    def series(self) -> pd.Series:
        """The column as a pandas Series."""
        packed = self._finish()
        if not self._pieces:
            return pd.Series([], dtype=self.empty_dtype)
        if packed:
            return self.wrap(pa.chunked_array(self._pieces, type=self.arrow_type()))
        return self.whole(list(self._rows()))


class TextColumn(_PiecedColumn):
    """A column of (mostly) strings: a piece of ``str`` values only is packed."""

    empty_dtype = object

    def arrow_type(self) -> pa.DataType | None:
        return None if _ARROW_TEXT is None else _ARROW_TEXT.storage_type

    def accepts(self, values: list[Any]) -> bool:
        return all(type(v) is str for v in values)

    def wrap(self, chunks: pa.ChunkedArray) -> pd.Series:
        assert _ARROW_TEXT is not None  # nothing is packed without it
        return pd.Series(chunks, dtype=_ARROW_TEXT.dtype)

    def whole(self, values: list[Any]) -> pd.Series:
        return pd.Series(values)  # pandas infers the dtype from the whole column, as always


class ListColumn(_PiecedColumn):
    """A column of lists of strings (or None)."""

    empty_dtype = LIST_OF_STRINGS

    def arrow_type(self) -> pa.DataType:
        return LIST_OF_STRINGS.pyarrow_dtype

    def accepts(self, values: list[Any]) -> bool:
        return all(type(v) is list and _strings(v) for v in values)

    def wrap(self, chunks: pa.ChunkedArray) -> pd.Series:
        return pd.Series(pd.arrays.ArrowExtensionArray(chunks))

    def whole(self, values: list[Any]) -> pd.Series:
        return pd.Series(values, dtype=object)  # lists as they were read

    def firsts(self) -> pd.Series:
        """Each row's first item (None for an empty list), as ``pd.Series`` of them gives.

        Where every list holds one item (one reply per cell) this is the lists' own
        strings, not a copy.
        """
        packed = self._finish()
        if _ARROW_TEXT is not None and self._pieces and packed:
            items = pa.chunked_array(
                [_first_items(piece) for piece in self._pieces], type=_ARROW_TEXT.storage_type
            )
            if items.null_count < len(items):  # else pandas would give objects: below
                return pd.Series(items, dtype=_ARROW_TEXT.dtype)
        return pd.Series([v[0] if v else None for v in self._rows()])


def _first_items(lists: pa.ListArray) -> pa.Array:
    """The first item of each list of ``lists`` (null for an empty list)."""
    lengths = pc.list_value_length(lists)
    if lists.null_count == 0 and pc.all(pc.equal(lengths, 1)).as_py():
        return lists.flatten()  # the items themselves: no copy
    starts = pc.if_else(pc.greater(lengths, 0), lists.offsets[:-1], None)
    return pc.take(lists.values, starts, memory_pool=_HEAP)


def _strings(values: Iterable[Any]) -> bool:
    return all(type(v) is str or v is None for v in values)
