"""The numbers each paper reports, as data, for "paper vs. here" tables: one module per
paper slug (`adversarial`, `mra`, `cmira`, `unlearnguard`, `rsu`)."""
