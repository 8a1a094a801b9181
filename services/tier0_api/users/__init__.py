"""User-activity endpoints: each web site's latest report and the recent-reports stream.

``routes`` (HTTP), ``queries`` (Redis reads), ``schemas`` (response models).
"""
