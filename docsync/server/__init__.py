"""The server: registry, application contexts, sessions, tokens and the consumer."""
