"""Channel adapters (Telegram, web chat, later Zalo): peers behind one interface, registered by type."""
