"""Google ADK's session API over ADK's own DatabaseSessionService tables."""
