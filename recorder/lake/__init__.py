"""Past one machine: finished hours shipped to an S3-compatible lake, and read back from it.

``ship`` (``Shipper``, ``ShipRequest``) is the whole of ``obrec ship``; ``background`` runs it
beside a recorder (``record --ship-to``); ``reader`` (``Lake``) opens a lake as ``Database``
opens a directory. ``layout`` says where objects go and which hours are final (pure),
``objects`` is the only S3 code. Needs the ``parquet`` extra (pyarrow). docs/lake.md.
"""

from recorder.lake.reader import Lake
from recorder.lake.ship import Shipper, ShipRequest

__all__ = ["Lake", "ShipRequest", "Shipper"]
