"""A fake Shopify store for tests, the demo and benchmarks: Admin GraphQL against the real schema, OAuth, webhooks."""

from sandbox.shopify.app import ShopifySandbox, create_app, run, sandbox_of
from sandbox.shopify.oauth import query_hmac
from sandbox.shopify.schema import admin_schema, check_document
from sandbox.shopify.state import ShopifyState
from sandbox.shopify.webhooks import sign as sign_webhook

__all__ = ["ShopifySandbox", "ShopifyState", "admin_schema", "check_document", "create_app", "query_hmac", "run",
           "sandbox_of", "sign_webhook"]
