"""The demo payments and refunds: refund policies, paid orders for the places of the classes demo, a first period of
the term whose classes have already met (so that cancelling refunds pro rata), refunds in every state, a late
payment refunded automatically, a duplicated and a forged notification, and yesterday's bill reconciled with its
settlement into escrow.

Everything goes through the payment services (``policy_set``, ``order_create``, ``payment_start``,
``refund_request``, ``refund_decide``, ``notification_receive``, ``reconcile``, the ticker's ``simulator_deliver``,
``orders_close_expired`` and ``refunds_poll``) and the simulator channel (``SimulatorGateway().pay``: what the payer
does; the simulator finishes each refund by itself a minute after it is asked). Nothing is posted to the ledger by
hand and no signature is made up: the simulator signs its notifications as WeChat Pay v3 does, and they are verified
on the way in like a real channel's.

Two parts:

* :class:`DemoPayer` is handed to the classes stage (:func:`kehou.demo.stages.enrolment.build_enrolment`): where its
  replay confirms a place, the guardian orders it (some with the optional materials), pays through the simulator, and
  the simulator's notification confirms the place, at the same moment the classes demo would have confirmed it (so the
  places are the same with or without payments); where it cancels a paid place, the place is cancelled with its refund
  (whole: the classes have not started), which the channel finishes a minute later.
* :func:`build_payments`, after the classes: the first period of the term in three schools of their own
  (:data:`EARLY_SCHOOLS`; classes that started about five weeks before the load, with windows that closed before
  that), paid at selection time; cancellations before the first session (full refund) and after some sessions
  (pro rata under the city's policy; tiered, with the school's approval, in :data:`TIERED_DISTRICT`); one refund
  left awaiting the school; a payment that arrived after its hold expired (refunded whole); a notification the
  channel sent twice; a forged one (a genuine notification with its body altered: rejected, an alert for the city);
  the ticker's last run; and the city bureau's reconciliation of yesterday's simulator bill, which settles the day's
  net into escrow.

Deterministic: choices come from generators seeded with the demo seed and fixed labels, times are fixed offsets from
the load time (``base``) or, in the first period, from its sessions (whose dates follow the calendar). Order, trade
and refund numbers are the services' own (random) and are not part of what is compared.
"""

from .places import CHANNEL, SETTLE_AFTER, TIERED_DISTRICT, DemoPayer, simulator_enabled
from .readback import payments_counts
from .stage import LOADED_ACTION, build_payments, payments_state

__all__ = [
    "CHANNEL",
    "LOADED_ACTION",
    "SETTLE_AFTER",
    "TIERED_DISTRICT",
    "DemoPayer",
    "build_payments",
    "payments_counts",
    "payments_state",
    "simulator_enabled",
]
