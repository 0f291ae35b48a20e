from tests.dashboard.conftest import *  # noqa
def test_smoke(operator):
    for path in ["/orders", "/orders/1", "/orders.csv", "/skus", "/skus/detail?sku=SKU-RED", "/feeds", "/deliveries", "/reconcile"]:
        r = operator.get(path)
        print(path, r.status_code)
        if r.status_code != 200:
            print(r.get_data(as_text=True)[:3000])
    print(operator.get("/orders").get_data(as_text=True)[:200])
