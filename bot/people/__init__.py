"""People who talk to Loa Bản and the channel addresses (URNs) they use."""
