"""Serializers of the catalog API, one module per resource (submissions, panels, the experts' seats, libraries,
filings, standards).
"""
