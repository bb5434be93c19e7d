"""Policy Q&A: normalisation of how villagers type, the search engine, and (later) the entries' storage."""
