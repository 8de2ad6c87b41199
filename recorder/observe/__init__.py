"""Watching a running recorder: the live panel, log lines, Prometheus metrics, ``/healthz`` and
systemd notifications.

Every observer polls the counters in ``recorder.runstats`` at its own pace (about once a second
at most); none is called from the hot path. ``summary`` reads the recorder, ``health`` and
``logs`` are pure rules and formats, ``panel``, ``metrics`` and ``systemd`` are the outputs, and
``runner`` runs the chosen ones beside ``Recorder.run``.
"""
