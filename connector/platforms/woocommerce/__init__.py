"""WooCommerce: REST v3 client, the Platform adapter, OAuth 1.0a signing, key exchange and webhook helpers."""
