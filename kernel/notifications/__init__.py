"""Notifications: rules report facts, the engine notifies each fact once, in the app, by
e-mail (now or in the 07:00 digest) and to webhooks; one sender holds a lease. See
docs/notifications.md."""

from kernel.notifications.rules import Fact, NotificationRule, RuleContext

__all__ = ["Fact", "NotificationRule", "RuleContext"]
