"""Shopify's Admin GraphQL introspection (2025-01), shipped as package data; see LICENSE-NOTE.md."""
