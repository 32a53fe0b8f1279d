"""HTTP at the edges: the peer endpoint (server) and the delivery workers (client)."""
