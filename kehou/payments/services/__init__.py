"""Every write of orders, payments, notifications, refunds and reconciliation (DESIGN.md rule 2)."""
