"""Rendering: enrichment results -> escaped, validated Block Kit (templates/ holds the shapes)."""
