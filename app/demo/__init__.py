"""A fictitious history for a development database (`hotline demo seed`).

``population`` decides, from a seed alone, who contacts the hotline, when, how and about
what; ``numbers`` gives them numbers no real subscriber has; ``seed`` plays that plan
through the same services the webhooks and the console call, with the clock set to each
simulated moment; ``cli`` is the command, refused in production.
"""
