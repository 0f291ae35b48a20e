"""Shopify: Admin GraphQL client, the Platform implementation, OAuth and webhook-signature helpers."""
