"""Client side: turn task messages into result messages with a reco algorithm."""
