"""The Linked Data site: entity pages and data documents (303 dereferencing), the home page and
listings, and the server-drawn pictures (map, timeline, figures chart)."""
