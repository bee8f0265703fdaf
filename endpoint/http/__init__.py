"""HTTP plumbing shared by every view: content negotiation, caching and ETags, CORS, and the
rendering of errors (plain text for the protocol, JSON for programs, HTML for browsers)."""
