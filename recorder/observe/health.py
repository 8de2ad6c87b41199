"""When the recorder counts as healthy: ``/healthz`` and systemd's watchdog. Pure: a ``Summary``
and the wall time in, a verdict out.

- Healthy: the store is open, every symbol is live, and a batch with snapshots was written in
  the last ``MAX_WRITE_AGE_S`` (a live symbol finalises a second every second, so a healthy run
  writes about once a second). Before the first snapshot is written the run is not healthy.
- The watchdog is petted while snapshots keep being written: after ``WATCHDOG_STALL_S`` without
  one (counted from the start while none was written yet), systemd restarts the recorder. That
  is far longer than a resync or a reconnect, so only a wedged run, or an exchange outage that a
  restart does not make worse, stops the petting.
"""

from __future__ import annotations

from dataclasses import dataclass

from recorder.observe.summary import Summary

MAX_WRITE_AGE_S = 10.0
WATCHDOG_STALL_S = 300.0
_NAMES_IN_REASON = 10


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    body: dict[str, object]
    """The JSON document ``/healthz`` answers with (status 200 if ``ok``, else 503)."""


def idle_s(summary: Summary, now_s: float) -> float:
    """Seconds since the last write with snapshots, or since the store opened if none yet."""
    since = summary.last_write_s if summary.last_write_s is not None else summary.started_s
    return max(0.0, now_s - since)


def check_health(
    summary: Summary, now_s: float, *, max_write_age_s: float = MAX_WRITE_AGE_S
) -> Health:
    if not summary.ready:
        reason = "not recording yet (checking the symbols, opening the store)"
        return Health(False, {"status": "starting", "reasons": [reason]})
    reasons = []
    if summary.not_live:
        names = list(summary.not_live)
        shown = ", ".join(names[:_NAMES_IN_REASON])
        more = f" and {len(names) - _NAMES_IN_REASON} more" if len(names) > _NAMES_IN_REASON else ""
        reasons.append(f"{len(names)} of {summary.symbols} symbol(s) not live: {shown}{more}")
    last_write = summary.last_write_s
    if last_write is None:
        reasons.append("no snapshot written yet")
    elif now_s - last_write > max_write_age_s:
        reasons.append(f"no snapshot written for {now_s - last_write:.0f} s")
    return Health(
        not reasons,
        {
            "status": "unhealthy" if reasons else "ok",
            "reasons": reasons,
            "symbols": summary.symbols,
            "live": summary.live,
            "not_live": {symbol: state.value for symbol, state in summary.not_live.items()},
            "seconds_since_last_write": None
            if last_write is None
            else round(now_s - last_write, 3),
            "snapshots_written": summary.snapshots_written,
        },
    )


def watchdog_may_pet(summary: Summary, now_s: float, *, stall_s: float = WATCHDOG_STALL_S) -> bool:
    return summary.ready and idle_s(summary, now_s) <= stall_s
