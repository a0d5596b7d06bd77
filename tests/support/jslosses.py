"""The losses server_stub's JetStream logs: is each acked message served or reported lost?"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_LOST = re.compile(
    r"stream '(?P<account>[^']*) > (?P<stream>[^']*)': lost "
    r"(?:any messages from seq (?P<open>\d+) on|messages (?P<first>\d+)\.\.(?P<last>\d+)"
    r"|message (?P<one>\d+))"
)

LostRange = tuple[int, int | None]


def lost_in_log(text: str, stream: str) -> list[LostRange]:
    """The (first, last-or-None) sequence ranges the log reports lost for `stream`."""
    ranges: list[LostRange] = []
    for match in _LOST.finditer(text):
        if match["stream"] != stream:
            continue
        if match["open"]:
            ranges.append((int(match["open"]), None))
        elif match["one"]:
            ranges.append((int(match["one"]), int(match["one"])))
        else:
            ranges.append((int(match["first"]), int(match["last"])))
    return ranges


def reported(seq: int, ranges: list[LostRange]) -> bool:
    """True when `seq` falls in one of the ranges."""
    return any(first <= seq and (last is None or seq <= last) for first, last in ranges)


def unaccounted(
    acked: Mapping[int, bytes], served: Callable[[int], bytes | None], ranges: list[LostRange]
) -> list[int]:
    """Acked sequences neither served with their payload nor reported lost (should be [])."""
    missing = []
    for seq, payload in sorted(acked.items()):
        got = served(seq)
        if got is None:
            if not reported(seq, ranges):
                missing.append(seq)
        elif got != payload:  # a different payload is never acceptable, reported or not
            raise AssertionError(f"seq {seq} served {got!r}, acknowledged {payload!r}")
    return missing
