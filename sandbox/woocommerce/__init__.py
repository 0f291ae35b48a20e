"""A fake WooCommerce store (REST v3, wc-auth, webhooks) that behaves like the real one, for tests, the demo and benchmarks.

Start one with `run(port, seed_path)` or build the app with `create_app(WooState.from_seed(seed))`.

What it does like WooCommerce
- REST `/wp-json/wc/v3/`: orders (list/read/create/update/delete, `orders/batch` with at most 100 items,
  notes), products, variations, webhooks; and the Backorder ETA plugin's `wc-backorder-eta/v1/variations/batch`.
  Errors are `{code, message, data: {status}}` with core's codes;
  lists take `page`/`per_page` (1..100, else 400 `rest_invalid_param`), `offset`, `order`, `orderby`,
  `after`/`before`/`modified_after`/`modified_before` with `dates_are_gmt`, and answer with `X-WP-Total`,
  `X-WP-TotalPages` and `Link`. Query strings are parsed like PHP: a repeated plain key keeps only the
  last value, `status[]=a&status[]=b` is a list, and `status=a,b` is split on commas.
- Auth (WC_REST_Authentication): over plain HTTP, Basic auth and query keys are ignored (the request is
  anonymous, so 401 `woocommerce_rest_cannot_view`); OAuth 1.0a one-legged is verified as core does
  (HMAC-SHA1/SHA256, query + form + Authorization params, key `secret&`, ±15 min, single-use nonces).
  With `https_mode` (simulating `is_ssl()`), Basic and `consumer_key`/`consumer_secret` query keys work.
  Key permissions (`read`, `write`, `read_write`) are checked per HTTP method.
- Stock: orders entering processing/on-hold/completed reduce managed stock and mark lines with
  `_reduced_stock`; cancelled/pending give it back. Lines of `backorders: notify` items short of stock
  get the English "Backordered" meta at creation. A variation not managing stock whose parent does is
  shown with `manage_stock: "parent"` and the parent's stock.
- A note with `customer_note: true` records the "Customer note" email the store would send (`emails`).
- Webhooks: creation sends the unsigned ping (`webhook_id=N` form body) synchronously and keeps the
  webhook whatever the answer (as the REST controller does; `last_ping_status` shows the result).
  Changes send signed deliveries from a background thread (payload built at delivery time, PHP-style
  JSON with `\\/`); answers outside 200..302 count as failures, and a failure with failure_count already
  at 5 disables the webhook. Delivery ids are unique per delivery (core derives them from the webhook id
  and the current second, so real ones can repeat within a second).
- `/wc-auth/v1/authorize`: the merchant approves at once; keys go by POST to callback_url (`user_id`
  echoed as a string); a non-200 answer deletes the key and shows core's 401 error page; `deny=1`
  redirects to return_url with `success=0`. A plain-HTTP callback is accepted only on loopback.
- Faults (FaultPlan) apply to `/wp-json`: slow answers, 429 `rate_limit_exceeded` with Retry-After,
  500/503 with the WordPress error shape; dropped webhooks are recorded as `dropped` deliveries.
- Control API under `/_sandbox/` (no auth): `POST orders`, `PUT orders/<id>`, `GET orders/<id>`,
  `POST stock`, `GET|PUT faults`, `GET notes|emails|webhooks|deliveries|keys|state`, `POST webhooks/flush`.

Seed format (JSON object; dates are naive GMT `YYYY-MM-DDTHH:MM:SS`)
    site_url            store URL as it sees itself (OAuth base URI, links, webhook source); null = served address
    site_title, currency, gmt_offset_hours (site-local = GMT + offset), https_mode, customer_note_email_enabled,
                        backorder_eta_plugin (default true: the plugin's `wc-backorder-eta/v1` route answers)
    api_keys    [{key_id, user_id, consumer_key "ck_…", consumer_secret "cs_…", permissions, description}]
    products    [{id, name, type simple|variable, sku, price, manage_stock, stock_quantity, backorders
                  no|notify|yes, stock_status (used when stock is not managed), date_created_gmt,
                  date_modified_gmt?, attributes?, variations: [{id, sku, price, attributes [{name, option}],
                  manage_stock true|false|"parent", stock_quantity, backorders, stock_status, dates?}]}]
                  Product and variation ids share one id space.
    orders      [{id, number?, status, date_created_gmt, date_modified_gmt?, customer_id, billing {first_name,
                  last_name, email, …}, line_items [{id, product_id, variation_id?, quantity, name?, sku?, price?,
                  meta_data [{id?, key, value}]}], meta_data, customer_note?, notes [{note, customer_note,
                  added_by_user?, date_created_gmt}]}]
                  Stock in the seed is taken as already reduced for lines carrying `_reduced_stock`.
    webhooks    [{id, name, topic, delivery_url, secret, status, failure_count?}]
"""

from sandbox.woocommerce.app import create_app, run
from sandbox.woocommerce.auth import AuthRequest, Identity, oauth_base_string, oauth_signature, signing_url
from sandbox.woocommerce.context import WooSandbox, sandbox_of
from sandbox.woocommerce.state import WooState, load_seed
from sandbox.woocommerce.webhooks import USER_AGENT, webhook_signature

__all__ = [
    "AuthRequest",
    "Identity",
    "USER_AGENT",
    "WooSandbox",
    "WooState",
    "create_app",
    "load_seed",
    "oauth_base_string",
    "oauth_signature",
    "run",
    "sandbox_of",
    "signing_url",
    "webhook_signature",
]
