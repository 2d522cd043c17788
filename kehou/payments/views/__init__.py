"""Pages of payments, one module per resource: the schools' and bureaus' payments, refunds (the school decides),
the channels' notifications, reconciliation, the escrow ledger and the refund policies; the parent's orders,
receipts, paying and refunds (``parent.py``, phone first).
"""
