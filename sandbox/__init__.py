"""Sandbox stores that behave like Shopify and WooCommerce, for the demo, the tests and the benchmarks."""
