"""Backorder connector: finds backordered order lines, works out ETAs and tells merchants and customers."""

__version__ = "0.1.0"
