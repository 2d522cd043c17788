"""Every write of course classes, windows, waivers and selection (DESIGN.md rule 2)."""
