"""Reaching people who are not connected: in-app notifications, email, Web Push and an SMS
gateway; preferences and quiet hours; gathered messages and the daily digest; escalation
on a case's deadline; invitations and password-reset links (docs/notifications.md)."""
