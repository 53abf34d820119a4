"""Attacks on unlearned models: membership recall (MRA), and those of the later chapters."""
