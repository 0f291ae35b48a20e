"""Shopify's Admin GraphQL schema, version 2026-04 (SDL), shipped as package data; see LICENSE-NOTE.md."""
