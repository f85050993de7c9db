"""The card templates (jinja2 -> Block Kit JSON). Installed as `bot.templates`, so a wheel
carries them; bot.render.cards finds them through that name."""
