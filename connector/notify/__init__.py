"""Customer notices: which one an order's decision calls for, its text, the signed choice link, and delivery.

Typical use by the outbox worker::

    decision = decide_notice(state, status, eta, today, settings.eta_improvement_days)
    if decision.send_now:
        key = notice_fingerprint(decision.kind, eta, lines, previous=state)
        token = make_choice_token(secret, shop_id, order_id, key)
        rendered = render_notice(decision.kind, NoticeContext(..., choice_url=choice_url(app_url, token)),
                                 locale=order.locale, override_dir=shop_templates)
        channel = choose_channel(platform, smtp_url=..., mail_from=..., outbox_dir=settings.outbox_dir)
        channel.send(OutgoingNotice(..., message_id=message_id_for(key, mail_from), ref=key))
        state = record_sent(decision.kind, eta, today)
"""

from connector.notify.channels import Channel, EmlDirChannel, PlatformNoteChannel, SmtpChannel, choose_channel
from connector.notify.links import ChoiceClaim, choice_url, make_choice_token, read_choice_token
from connector.notify.message import DeliveryReceipt, OutgoingNotice, build_email, message_id_for
from connector.notify.policy import (
    NoticeDecision,
    NoticeKind,
    NoticeLine,
    NoticeState,
    decide_notice,
    next_notice,
    notice_fingerprint,
    record_sent,
)
from connector.notify.render import (
    ChoicePage,
    NoticeContext,
    Refund,
    RenderedNotice,
    render_choice_page,
    render_notice,
)

__all__ = [
    "Channel",
    "ChoiceClaim",
    "ChoicePage",
    "DeliveryReceipt",
    "EmlDirChannel",
    "NoticeContext",
    "NoticeDecision",
    "NoticeKind",
    "NoticeLine",
    "NoticeState",
    "OutgoingNotice",
    "PlatformNoteChannel",
    "Refund",
    "RenderedNotice",
    "SmtpChannel",
    "build_email",
    "choice_url",
    "choose_channel",
    "decide_notice",
    "make_choice_token",
    "message_id_for",
    "next_notice",
    "notice_fingerprint",
    "read_choice_token",
    "record_sent",
    "render_choice_page",
    "render_notice",
]
