"""Which cell records are alive now, leaving out those that were alive before a test."""

from __future__ import annotations

import gc

from promptlab.experiments.store import CellRecord


class NewRecords:
    """Task ids of the :class:`CellRecord` objects made since this was created and still alive.

    Records other tests left alive are not the test's: they are held here, so no new record
    can take one's ``id``, and left out by ``id``.
    """

    def __init__(self) -> None:
        self._earlier = [o for o in gc.get_objects() if type(o) is CellRecord]
        self._earlier_ids = {id(o) for o in self._earlier}

    def task_ids(self) -> list[str]:
        """Sorted task ids of the new records alive now (after a full collection)."""
        gc.collect()
        return sorted(
            o.task_id
            for o in gc.get_objects()
            if type(o) is CellRecord and id(o) not in self._earlier_ids
        )
