"""Readers and writers of foncier's stores and of the official open-data formats.

One module per source: :mod:`foncier.io.cerema` (ENAF consumption files) and
the others added beside it.  Each reader returns a validated layer whose
``attrs["load_report"]`` is a :class:`foncier.layers.LoadReport`.
"""

from foncier.io.cerema import read_cerema_enaf, write_cerema_enaf

__all__ = ["read_cerema_enaf", "write_cerema_enaf"]
