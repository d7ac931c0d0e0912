"""The one clock of a build: SOURCE_DATE_EPOCH, or the handbook's review date.

Nothing in an output may depend on when or where the build ran.
"""

from __future__ import annotations

import calendar
import datetime
import os

from .model import ReviewDate

ZIP_EPOCH_MIN = 315532800  # 1980-01-01: the earliest time a zip entry can hold


def source_date_epoch(review_date: ReviewDate) -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value.isdigit():
        return int(value)
    return calendar.timegm((review_date.year, review_date.month, 1, 0, 0, 0))


def build_datetime(review_date: ReviewDate) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(source_date_epoch(review_date), tz=datetime.timezone.utc)


def iso_timestamp(review_date: ReviewDate) -> str:
    return build_datetime(review_date).strftime("%Y-%m-%dT%H:%M:%SZ")
