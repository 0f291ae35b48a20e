from tests.dashboard.conftest import *  # noqa
def test_dbg(operator, app):
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.testing = True
    import logging
    r = operator.get("/reconcile")
