"""Supplier feeds: parsing and validation (parse.py, inventory.py) and import into the database (importer.py)."""
