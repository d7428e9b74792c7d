"""Write every trainable rating (``db.trainable``) to a Parquet snapshot, in bulk.

``musicrec export-ratings``: no Spotify import, no unsigned file row, no artist a user added
that the operator has not confirmed.

The snapshot is what a Spark job outside the app reads (``spark.read.parquet``): columns
``user_id`` (int64), ``artist_id`` (int64) and ``rating`` (int16, 1..10), ordered by user then
artist. Rows arrive from one streamed query in batches of arrays and are written batch by
batch with pyarrow (no Python loop per row), into a hidden temporary file renamed into place:
a reader never sees half a snapshot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from musicrec.db.ratings import RatingArrays, rating_batches

INSTALL_HINT = "Writing Parquet needs pyarrow: pip install -e '.[spark]'"


class ExportUnavailable(RuntimeError):
    """pyarrow is not installed."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    ratings: int


def export_ratings(session: Session, path: Path, *, batch_size: int = 100_000) -> ExportReport:
    """Write the ratings snapshot to ``path`` (replaced atomically if it exists)."""
    try:
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportUnavailable(INSTALL_HINT) from None

    schema = pa.schema([("user_id", pa.int64()), ("artist_id", pa.int64()), ("rating", pa.int16())])

    def record_batch(batch: RatingArrays) -> pa.RecordBatch:
        columns = [batch.user_ids, batch.artist_ids, batch.ratings.astype(np.int16)]
        return pa.RecordBatch.from_arrays([pa.array(c) for c in columns], schema=schema)

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    ratings = 0
    try:
        with pq.ParquetWriter(temporary, schema) as writer:
            for batch in rating_batches(session, batch_size):
                writer.write_batch(record_batch(batch))
                ratings += int(batch.ratings.size)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return ExportReport(path=path, ratings=ratings)
