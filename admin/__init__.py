"""The admin web UI: server-rendered Jinja2 with htmx, in Vietnamese."""
